import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { StructSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { ViolationsSchema } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { ListReviewsRequestSchema, ReviewFetcher } from "../../gen/reviewflow/fetcher/v1/fetcher_pb.js";
import { TokenService } from "../../gen/reviewflow/token/v1/token_service_pb.js";
import { createNulGuardInterceptor, NUL_RULE_ID, refuseNul, TIMESTAMP_RULE_ID } from "./nul-guard.js";

describe("lib/rpc NUL guard", () => {
  const reached: string[] = [];
  const transport = createRouterTransport(
    (router) => {
      router.service(TokenService, {
        createClient(req) {
          reached.push(req.name);
          return {};
        },
      });
      router.service(ReviewFetcher, {
        async *watchFetchJob(req) {
          reached.push(req.jobId);
          yield {};
        },
      });
    },
    { router: { interceptors: [createNulGuardInterceptor()] } },
  );
  const tokens = createClient(TokenService, transport);
  const fetcher = createClient(ReviewFetcher, transport);
  beforeEach(() => (reached.length = 0));

  const invalid = (err: unknown, ...fields: string[]) => {
    const e = ConnectError.from(err);
    assert.equal(e.code, Code.InvalidArgument, e.message);
    const [violations] = e.findDetails(ViolationsSchema);
    assert.deepEqual(
      violations.violations.map((v) => v.ruleId),
      fields.map(() => NUL_RULE_ID),
    );
    for (const field of fields) assert.match(e.rawMessage, new RegExp(`${field.replace(/[[\]]/g, "\\$&")}: must not contain NUL`));
    return true;
  };

  it("refuses a unary request with U+0000 in any string field, naming each field, before the handler runs", async () => {
    await assert.rejects(tokens.createClient({ name: "a\u0000b", scopes: ["fine", "bad\u0000"] }), (err) =>
      invalid(err, "name", "scopes[1]"),
    );
    assert.deepEqual(reached, []);
    await tokens.createClient({ name: "ordinary ünïcödé 😀" });
    assert.deepEqual(reached, ["ordinary ünïcödé 😀"]);
  });

  it("refuses a server-streaming request the same way", async () => {
    await assert.rejects(
      (async () => {
        for await (const _ of fetcher.watchFetchJob({ jobId: "\u0000" })) void _;
      })(),
      (err) => invalid(err, "job_id"),
    );
    assert.deepEqual(reached, []);
  });

  it("walks nested messages, lists and map keys and values", () => {
    const struct = create(StructSchema, {
      fields: {
        "k\u0000": { kind: { case: "stringValue", value: "ok" } },
        nested: { kind: { case: "listValue", value: { values: [{ kind: { case: "stringValue", value: "x\u0000" } }] } } },
      },
    });
    assert.throws(
      () => refuseNul(StructSchema, struct),
      (err) => {
        const e = ConnectError.from(err);
        assert.equal(e.code, Code.InvalidArgument);
        assert.equal(e.findDetails(ViolationsSchema)[0].violations.length, 2);
        assert.match(e.rawMessage, /fields\["k.*: must not contain NUL/);
        assert.match(e.rawMessage, /list_value\.values\[0\]\.string_value: must not contain NUL/);
        return true;
      },
    );
  });

  it("refuses a Timestamp outside years 1 to 9999 (binary protobuf can carry any int64), and lets an ordinary one through", () => {
    for (const seconds of [2n ** 63n - 1n, 253_402_300_800n, -62_135_596_801n]) {
      const req = create(ListReviewsRequestSchema, { updatedAfter: { seconds } });
      assert.throws(
        () => refuseNul(ListReviewsRequestSchema, req),
        (err) => {
          const e = ConnectError.from(err);
          assert.equal(e.code, Code.InvalidArgument);
          assert.deepEqual(
            e.findDetails(ViolationsSchema)[0].violations.map((v) => v.ruleId),
            [TIMESTAMP_RULE_ID],
          );
          assert.match(e.rawMessage, /updated_after: must be a valid timestamp/);
          return true;
        },
      );
    }
    refuseNul(ListReviewsRequestSchema, create(ListReviewsRequestSchema, { updatedAfter: { seconds: 1_700_000_000n, nanos: 5 } }));
  });
});
