import { ScalarType, type DescMessage, type Message } from "@bufbuild/protobuf";
import { buildPath, reflect, type PathBuilder, type ReflectMessage } from "@bufbuild/protobuf/reflect";
import { Violation, violationsToProto } from "@bufbuild/protovalidate";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";

/** The rule id a NUL violation carries in its `buf.validate.Violations` detail. */
export const NUL_RULE_ID = "reviewflow.string.no_nul";
/** The rule id of a Timestamp outside the range the protobuf spec (and Postgres) allows. */
export const TIMESTAMP_RULE_ID = "reviewflow.timestamp.valid";
/** 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z: google/protobuf/timestamp.proto's range. */
const MIN_SECONDS = -62_135_596_800n;
const MAX_SECONDS = 253_402_300_799n;

/**
 * Refuses values Postgres cannot hold: any request whose string fields (at any depth: nested messages, lists, map keys and
 * values, oneofs) contain U+0000, with INVALID_ARGUMENT and the same `buf.validate.Violations`
 * detail protovalidate gives. Postgres text cannot hold NUL (SQLSTATE 22021), so without this
 * guard such a value reaches a query and comes back as INTERNAL; JSON and protobuf both carry it
 * happily; likewise a Timestamp outside years 1–9999 (only binary protobuf can carry one). One
 * interceptor walking the request by its descriptor covers every RPC, present and
 * future, where a rule on each string field of each .proto would miss the next one added.
 */
export function createNulGuardInterceptor(): Interceptor {
  return (next) => (req) => {
    if (req.stream === false) {
      refuseNul(req.method.input, req.message);
      return next(req);
    }
    const messages = req.message;
    return next({
      ...req,
      message: (async function* () {
        for await (const message of messages) {
          refuseNul(req.method.input, message);
          yield message;
        }
      })(),
    });
  };
}

/** Throws INVALID_ARGUMENT naming every string field of `message` that holds U+0000. */
export function refuseNul(desc: DescMessage, message: Message): void {
  const violations: Violation[] = [];
  walk(reflect(desc, message), buildPath(desc), violations);
  if (violations.length === 0) return;
  const [value, schema] = violationsToProto(violations);
  throw new ConnectError(violations.map(String).join(", "), Code.InvalidArgument, undefined, [{ desc: schema, value }]);
}

function walk(msg: ReflectMessage, path: PathBuilder, out: Violation[]): void {
  for (const field of msg.fields) {
    if (!msg.isSet(field)) continue;
    const at = path.clone().field(field);
    switch (field.fieldKind) {
      case "scalar":
        check(field.scalar, msg.get(field), at, false, out);
        break;
      case "message": {
        const child = msg.get(field) as ReflectMessage;
        // binary protobuf carries any int64 in a Timestamp (JSON's parser range-checks it): one
        // past year 9999 would reach Postgres as an invalid date (22007/22008) → INTERNAL
        if (child.desc.typeName === "google.protobuf.Timestamp") checkTimestamp(child, at, out);
        else walk(child, at, out);
        break;
      }
      case "list":
        for (const [index, item] of (msg.get(field) as Iterable<unknown> & { entries(): IterableIterator<[number, unknown]> }).entries()) {
          const itemPath = at.clone().list(index);
          if (field.listKind === "message") walk(item as ReflectMessage, itemPath, out);
          else if (field.listKind === "scalar") check(field.scalar, item, itemPath, false, out);
        }
        break;
      case "map":
        for (const [key, value] of msg.get(field) as ReadonlyMap<string | number | bigint | boolean, unknown>) {
          const entryPath = at.clone().map(key);
          check(field.mapKey, key, entryPath, true, out);
          if (field.mapKind === "message") walk(value as ReflectMessage, entryPath, out);
          else if (field.mapKind === "scalar") check(field.scalar, value, entryPath, false, out);
        }
        break;
      // enums hold numbers: nothing to store as text
    }
  }
}

function checkTimestamp(ts: ReflectMessage, path: PathBuilder, out: Violation[]): void {
  const { seconds, nanos } = ts.message as unknown as { seconds: bigint; nanos: number };
  if (seconds < MIN_SECONDS || seconds > MAX_SECONDS || nanos < 0 || nanos > 999_999_999) {
    out.push(new Violation("must be a valid timestamp between 0001-01-01 and 9999-12-31", TIMESTAMP_RULE_ID, path.toPath(), [], false));
  }
}

function check(scalar: ScalarType, value: unknown, path: PathBuilder, forKey: boolean, out: Violation[]): void {
  if (scalar === ScalarType.STRING && typeof value === "string" && value.includes("\u0000")) {
    out.push(new Violation("must not contain NUL (U+0000) characters", NUL_RULE_ID, path.toPath(), [], forKey));
  }
}
