// toConnectError tells a dependency that is away from a bug by codes and classes along the cause
// chain, never by what a message happens to say.
import assert from "node:assert/strict";
import { Code } from "@connectrpc/connect";
import { errors as natsErrors } from "@nats-io/nats-core";
import { JetStreamPublishError, PublishTimeoutError } from "../nats/index.js";
import { toConnectError } from "./errors.js";

const coded = (message: string, code: string) => Object.assign(new Error(message), { code });

describe("toConnectError", () => {
  it("answers UNAVAILABLE for Node and Postgres codes anywhere along the cause chain, and for NATS's connection errors", () => {
    const cases: unknown[] = [
      coded("connect ECONNREFUSED 127.0.0.1:5432", "ECONNREFUSED"),
      new Error("query failed", { cause: new Error("socket", { cause: coded("read ECONNRESET", "ECONNRESET") }) }),
      Object.assign(new Error("QueryFailedError"), { driverError: coded("terminating connection due to administrator command", "57P01") }),
      Object.assign(new AggregateError([coded("connect ECONNREFUSED ::1:5432", "ECONNREFUSED")], "")),
      new Error("Connection terminated unexpectedly"),
      new natsErrors.ClosedConnectionError(),
      // the acked publisher's: no ack in time, no stream answering the subject, no JetStream leader
      new PublishTimeoutError("rf.fetch.accounts", 5_000),
      new JetStreamPublishError("no JetStream stream takes subject rf.fetch.accounts", 503, true),
    ];
    for (const err of cases) assert.equal(toConnectError(err).code, Code.Unavailable, String(err));
  });

  it("answers INTERNAL when only the message sounds like an outage", () => {
    for (const err of [
      new Error("user typed ECONNREFUSED in a field"),
      coded("connection closed by the test", "ERR_SOMETHING_ELSE"),
      new Error("timeout exceeded"),
      // JetStream refusing this message (a wrong expected stream) is not an outage
      new JetStreamPublishError("JetStream refused a publish to x: expected stream does not match", 10060),
    ]) {
      const answer = toConnectError(err);
      assert.equal(answer.code, Code.Internal, String(err));
      assert.equal(answer.rawMessage, "internal error");
    }
  });
});
