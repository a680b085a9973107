// Malformed input for the fuzz suite (test/fuzz.test.ts), drawn from a seeded PRNG so a failing
// run is reproduced by its seed: hostile strings, extreme numbers, random JSON, and protobuf
// messages of a method's input type with hostile field values.
import { create, ScalarType, toBinary, toJson, type DescEnum, type DescField, type DescMessage } from "@bufbuild/protobuf";
import { mulberry32, type Rng } from "../../emulator/prng.js";
import { FORGED_PAGE_TOKENS, JUNK_ACCESS_TOKENS, NUL } from "./hostile-input.js";

export type { Rng };

/** The emulator's PRNG (mulberry32): the same sequence for the same seed on every machine. */
export const seededRng = (seed: number): Rng => mulberry32(seed);

export const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;
export const chance = (rng: Rng, p: number): boolean => rng() < p;

export function randomBytes(rng: Rng, max: number): Uint8Array {
  return Uint8Array.from({ length: Math.floor(rng() * (max + 1)) }, () => Math.floor(rng() * 256));
}

/** Strings an attacker tries: NUL, CR/LF, emoji, lone surrogates, Latin-1, SQL, traversal, huge, forged page tokens. */
const HOSTILE_STRINGS: readonly string[] = [
  "",
  " ",
  NUL,
  `a${NUL}b`,
  "line\r\nX-Injected: 1",
  "😀".repeat(20),
  "\ud800",
  "é".repeat(30),
  "' OR 1=1 --",
  '"; DROP TABLE clients; --',
  "../../../etc/passwd",
  "%00",
  "%zz",
  "null",
  "-1",
  "0",
  "99999999999999999999999999",
  "1e309",
  "NaN",
  "true",
  "00000000-0000-0000-0000-000000000000",
  "0b4c6a1e-2f3d-4e5f-8a9b-0c1d2e3f4a5b",
  "2026-13-45T99:99:99Z",
  "accounts/1/locations/2/reviews/3",
  "<script>alert(1)</script>",
  "x".repeat(5_000),
  ...Object.values(FORGED_PAGE_TOKENS),
  ...JUNK_ACCESS_TOKENS,
];

/** A hostile string, or now and then one of `known` (real ids, so requests reach deeper code). */
export function hostileString(rng: Rng, known: readonly string[] = []): string {
  if (known.length > 0 && chance(rng, 0.15)) return pick(rng, known);
  const base = pick(rng, HOSTILE_STRINGS);
  return chance(rng, 0.2) ? `${base}${pick(rng, HOSTILE_STRINGS)}` : base;
}

/** Percent-encodes any string, a lone surrogate included (as U+FFFD: a URL can carry nothing else). */
export function encodeForUrl(value: string): string {
  return encodeURIComponent(value.replace(/[\ud800-\udfff]/g, "\ufffd"));
}

/** A random JSON value, nested up to `depth`: the wrong type for most fields. */
export function randomJson(rng: Rng, depth = 2, known: readonly string[] = []): unknown {
  const kind = Math.floor(rng() * (depth > 0 ? 8 : 6));
  switch (kind) {
    case 0:
      return null;
    case 1:
      return chance(rng, 0.5);
    case 2:
      return pick(rng, [0, -1, 1.5, 2 ** 31, -(2 ** 63), 2 ** 64, 1e308, -1e-308]);
    case 3:
    case 4:
    case 5:
      return hostileString(rng, known);
    case 6:
      return Array.from({ length: Math.floor(rng() * 3) }, () => randomJson(rng, depth - 1, known));
    default:
      return Object.fromEntries(
        Array.from({ length: Math.floor(rng() * 3) }, () => [hostileString(rng).slice(0, 40) || "k", randomJson(rng, depth - 1, known)]),
      );
  }
}

/**
 * A JSON body for a message (or for the property names of a JSON schema): its field names, in
 * proto and JSON spellings, with random values, plus now and then an unknown field, so the
 * decoder meets wrong types, extremes and strangers.
 */
export function randomJsonFor(
  rng: Rng,
  message: DescMessage | undefined,
  known: readonly string[],
  names: readonly string[] = [],
): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const fieldNames = message ? message.fields.map((f) => (chance(rng, 0.8) ? f.name : f.jsonName)) : names;
  for (const name of fieldNames) {
    if (!chance(rng, 0.6)) continue;
    body[name] = chance(rng, 0.6) ? hostileString(rng, known) : randomJson(rng, 2, known);
  }
  if (chance(rng, 0.2)) body[hostileString(rng).slice(0, 20) || "extra"] = randomJson(rng, 1);
  return body;
}

const INT32 = [0, -1, 1, 2 ** 31 - 1, -(2 ** 31)];
const UINT32 = [0, 1, 2 ** 32 - 1];
const INT64 = [0n, -1n, 1n, 2n ** 63n - 1n, -(2n ** 63n), 253402300800n];
const UINT64 = [0n, 1n, 2n ** 64n - 1n];
const FLOATS = [0, -0, 1.5, Number.NaN, Number.POSITIVE_INFINITY, -1e308];

function scalarValue(rng: Rng, type: ScalarType, known: readonly string[]): unknown {
  switch (type) {
    case ScalarType.STRING:
      return hostileString(rng, known).replace(/[\ud800-\udfff]/g, "?");
    case ScalarType.BYTES:
      return randomBytes(rng, 40);
    case ScalarType.BOOL:
      return chance(rng, 0.5);
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return pick(rng, INT32);
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return pick(rng, UINT32);
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return pick(rng, INT64);
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return pick(rng, UINT64);
    default:
      return pick(rng, FLOATS);
  }
}

function fieldValue(rng: Rng, field: DescField, depth: number, known: readonly string[]): unknown {
  switch (field.fieldKind) {
    case "scalar":
      return scalarValue(rng, field.scalar, known);
    case "enum":
      return chance(rng, 0.7) ? pick(rng, field.enum.values).number : pick(rng, [-1, 999, 2 ** 31 - 1]);
    case "message":
      return depth > 0 ? randomMessageInit(rng, field.message, depth - 1, known) : {};
    case "list":
      return Array.from({ length: Math.floor(rng() * 3) }, () => elementValue(rng, field.listKind, field, depth, known));
    case "map": {
      const entries = Array.from({ length: Math.floor(rng() * 3) }, () => {
        const key =
          field.mapKey === ScalarType.STRING ? hostileString(rng).replace(/[\ud800-\udfff]/g, "?") : String(Math.floor(rng() * 1000));
        return [key, elementValue(rng, field.mapKind, field, depth, known)];
      });
      return Object.fromEntries(entries);
    }
  }
}

/** An element of a list field, or a value of a map field. */
function elementValue(
  rng: Rng,
  kind: "scalar" | "enum" | "message",
  field: { scalar?: ScalarType; enum?: DescEnum; message?: DescMessage },
  depth: number,
  known: readonly string[],
): unknown {
  if (kind === "scalar") return scalarValue(rng, field.scalar!, known);
  if (kind === "enum") return pick(rng, field.enum!.values).number;
  return depth > 0 ? randomMessageInit(rng, field.message!, depth - 1, known) : {};
}

function randomMessageInit(rng: Rng, desc: DescMessage, depth: number, known: readonly string[]): Record<string, unknown> {
  const init: Record<string, unknown> = {};
  for (const field of desc.fields) {
    if (field.oneof || !chance(rng, 0.6)) continue;
    init[field.localName] = fieldValue(rng, field, depth, known);
  }
  for (const oneof of desc.oneofs) {
    if (!chance(rng, 0.7)) continue;
    const field = pick(rng, oneof.fields);
    init[oneof.localName] = { case: field.localName, value: fieldValue(rng, field, depth, known) };
  }
  return init;
}

/**
 * A message of `desc` with hostile field values, as protobuf binary and as proto JSON (random
 * JSON when the message has no JSON form, e.g. a Timestamp past year 9999).
 */
export function randomMessage(rng: Rng, desc: DescMessage, known: readonly string[]): { binary: Uint8Array; json: unknown } {
  const message = create(desc, randomMessageInit(rng, desc, 2, known) as never);
  let json: unknown;
  try {
    json = toJson(desc, message);
  } catch {
    json = randomJsonFor(rng, desc, known);
  }
  return { binary: toBinary(desc, message), json };
}
