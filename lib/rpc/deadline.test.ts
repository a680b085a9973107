import assert from "node:assert/strict";
import http2 from "node:http2";
import { setTimeout as sleep } from "node:timers/promises";
import { create } from "@bufbuild/protobuf";
import { ReviewFetcher, FetchJobSchema } from "../../gen/reviewflow/fetcher/v1/fetcher_pb.js";
import { useRpcServer } from "../../test/helpers/rpc-server.js";
import { dropUnholdableDeadline, forwardableDeadline, MAX_TIMER_MS } from "./deadline.js";

describe("dropUnholdableDeadline", () => {
  it("removes a deadline past 2^31-1 ms in either protocol's header, and nothing else", () => {
    const huge = { "connect-timeout-ms": "3000000000", "grpc-timeout": "2500000S", other: "x" };
    dropUnholdableDeadline(huge);
    assert.deepEqual(huge, { other: "x" });
    const fine = { "connect-timeout-ms": String(MAX_TIMER_MS), "grpc-timeout": "99999999m" };
    dropUnholdableDeadline(fine);
    assert.deepEqual(fine, { "connect-timeout-ms": String(MAX_TIMER_MS), "grpc-timeout": "99999999m" });
    // malformed values are Connect's to refuse (INVALID_ARGUMENT)
    const malformed = { "connect-timeout-ms": "-1", "grpc-timeout": "5 S" };
    dropUnholdableDeadline(malformed);
    assert.deepEqual(malformed, { "connect-timeout-ms": "-1", "grpc-timeout": "5 S" });
  });

  it("forwards upstream only what a gRPC timeout header can carry (8 digits of ms)", () => {
    assert.equal(forwardableDeadline(30_000), 30_000);
    assert.equal(forwardableDeadline(99_999_999), 99_999_999);
    assert.equal(forwardableDeadline(100_000_000), undefined);
    assert.equal(forwardableDeadline(undefined), undefined);
  });
});

describe("createRpcServer with a huge deadline", () => {
  const rpc = useRpcServer({
    services: [ReviewFetcher],
    routes: (router) =>
      router.service(ReviewFetcher, {
        async getFetchJob(_req, ctx) {
          // a call that outlives a timer that fired "at once" (Node runs an overflowing timer after 1 ms)
          await sleep(50, undefined, { signal: ctx.signal });
          return { job: { jobId: ctx.timeoutMs() === undefined ? "no-deadline" : "deadline" } };
        },
        async *watchFetchJob(req, ctx) {
          yield { job: create(FetchJobSchema, { jobId: req.jobId }) };
          await sleep(50, undefined, { signal: ctx.signal });
          yield { job: create(FetchJobSchema, { jobId: req.jobId }) };
        },
      }),
  });

  it("serves connect-timeout-ms: 3000000000 as no deadline", async () => {
    const res = await fetch(`${rpc.baseUrl}/reviewflow.fetcher.v1.ReviewFetcher/GetFetchJob`, {
      method: "POST",
      headers: { "content-type": "application/json", "connect-timeout-ms": "3000000000" },
      body: "{}",
    });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { job: { jobId: "no-deadline" } });
  });

  it("serves grpc-timeout: 2500000S as no deadline, on a unary call and a server stream", async () => {
    const session = http2.connect(rpc.baseUrl);
    try {
      for (const method of ["GetFetchJob", "WatchFetchJob"]) {
        const stream = session.request({
          ":method": "POST",
          ":path": `/reviewflow.fetcher.v1.ReviewFetcher/${method}`,
          "content-type": "application/grpc",
          te: "trailers",
          "grpc-timeout": "2500000S",
        });
        const trailers: Record<string, unknown> = {};
        stream.on("trailers", (t) => Object.assign(trailers, t));
        stream.end(Buffer.from([0, 0, 0, 0, 0]));
        stream.resume();
        await new Promise((resolve) => stream.once("close", resolve));
        assert.equal(trailers["grpc-status"], "0", `${method}: ${String(trailers["grpc-message"])}`);
      }
    } finally {
      session.close();
    }
  });

  it("keeps a deadline a timer can hold", async () => {
    const res = await fetch(`${rpc.baseUrl}/reviewflow.fetcher.v1.ReviewFetcher/GetFetchJob`, {
      method: "POST",
      headers: { "content-type": "application/json", "connect-timeout-ms": "60000" },
      body: "{}",
    });
    assert.deepEqual(await res.json(), { job: { jobId: "deadline" } });
  });
});
