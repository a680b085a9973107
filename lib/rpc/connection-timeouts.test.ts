import assert from "node:assert/strict";
import http2 from "node:http2";
import { setTimeout as sleep } from "node:timers/promises";
import { create } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { FetchJobSchema, ReviewFetcher } from "../../gen/reviewflow/fetcher/v1/fetcher_pb.js";
import { useRpcServer } from "../../test/helpers/rpc-server.js";
import { h2SlowHeaders, rawClient, trickle } from "../../test/helpers/wire-clients.js";
import type { HttpTimeouts } from "../config/index.js";

// Short limits so the suite runs in seconds; production reads them from HTTP_*_TIMEOUT_MS.
const TIMEOUTS: HttpTimeouts = { headersTimeoutMs: 300, requestTimeoutMs: 600, idleTimeoutMs: 400 };
/** What a close may take beyond its limit: Node checks HTTP/1.1 limits every headers/4 ms, and the box may be busy. */
const SLACK_MS = 400;
/** Node keeps an HTTP/1.1 keep-alive socket 1 s past the advertised limit, so a client reusing it at the limit is not reset. */
const H1_KEEPALIVE_BUFFER_MS = 1_000;
/** How long the stand-in WatchFetchJob stays silent: longer than every limit above. */
const SILENT_MS = 1_200;

describe("createRpcServer connection limits", () => {
  const rpc = useRpcServer({
    services: [ReviewFetcher],
    routes: (router) =>
      router.service(ReviewFetcher, {
        async *watchFetchJob(req, ctx) {
          yield { job: create(FetchJobSchema, { jobId: req.jobId }) };
          await sleep(SILENT_MS, undefined, { signal: ctx.signal });
          yield { job: create(FetchJobSchema, { jobId: req.jobId, tenantId: "after-silence" }) };
        },
      }),
    timeouts: TIMEOUTS,
  });

  describe("HTTP/1.1", () => {
    it("closes a socket that never sends a byte within the headers timeout", async () => {
      const client = rawClient(rpc.port);
      const ms = await client.closed;
      assert.ok(ms >= TIMEOUTS.headersTimeoutMs - 50 && ms <= TIMEOUTS.headersTimeoutMs + SLACK_MS, `closed after ${ms} ms`);
    });

    it("closes a slowloris (headers at 2 bytes a tick) with 408 within the headers timeout", async () => {
      const client = rawClient(rpc.port);
      client.socket.write("GET /health HTTP/1.1\r\nHost: x\r\n");
      trickle(client.socket, 50, () => client.socket.write("Xa"));
      const ms = await client.closed;
      assert.ok(ms <= TIMEOUTS.headersTimeoutMs + SLACK_MS, `closed after ${ms} ms`);
      assert.match(client.received(), /^HTTP\/1\.1 408 /);
    });

    it("closes a request whose body trickles in with 408 within the request timeout", async () => {
      const client = rawClient(rpc.port);
      client.socket.write(
        "POST /grpc.health.v1.Health/Check HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n",
      );
      trickle(client.socket, 50, () => client.socket.write("  "));
      const ms = await client.closed;
      assert.ok(ms >= TIMEOUTS.requestTimeoutMs - 50 && ms <= TIMEOUTS.requestTimeoutMs + SLACK_MS, `closed after ${ms} ms`);
      assert.match(client.received(), /^HTTP\/1\.1 408 /);
    });

    it("closes a keep-alive connection left idle after its answer", async () => {
      const client = rawClient(rpc.port);
      client.socket.write("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
      const ms = await client.closed;
      assert.match(client.received(), /^HTTP\/1\.1 404 /);
      assert.ok(ms <= TIMEOUTS.idleTimeoutMs + H1_KEEPALIVE_BUFFER_MS + SLACK_MS, `closed after ${ms} ms`);
    });

    it("keeps a server stream that stays silent longer than every limit (Connect over HTTP/1.1)", async () => {
      const fetcher = createClient(ReviewFetcher, createConnectTransport({ baseUrl: rpc.baseUrl, httpVersion: "1.1" }));
      const jobs = [];
      for await (const res of fetcher.watchFetchJob({ jobId: "j1" })) jobs.push(res.job?.tenantId);
      assert.deepEqual(jobs, ["", "after-silence"]);
    });
  });

  describe("h2c", () => {
    /** Resolves with ms until the session closed. */
    const sessionClosed = (session: http2.ClientHttp2Session, opened: number) =>
      new Promise<number>((resolve) => session.once("close", () => resolve(Date.now() - opened)));

    it("closes a session that opens no stream within the headers timeout, however often it pings", async () => {
      const opened = Date.now();
      const session = http2.connect(rpc.baseUrl);
      session.on("error", () => undefined);
      const pings = setInterval(() => !session.closed && !session.destroyed && session.ping(() => undefined), 50);
      const ms = await sessionClosed(session, opened);
      clearInterval(pings);
      assert.ok(ms <= TIMEOUTS.headersTimeoutMs + SLACK_MS, `closed after ${ms} ms`);
    });

    it("closes a session whose HEADERS frame trickles in a byte at a time", async () => {
      const client = rawClient(rpc.port);
      const { preface, headers } = h2SlowHeaders();
      client.socket.write(preface);
      let sent = 0;
      trickle(client.socket, 100, () => sent < headers.length && client.socket.write(headers.subarray(sent, ++sent)));
      const ms = await client.closed;
      assert.ok(ms <= TIMEOUTS.headersTimeoutMs + SLACK_MS, `closed after ${ms} ms`);
    });

    it("resets a stream whose body trickles in within the request timeout, then closes the idle session", async () => {
      const opened = Date.now();
      const session = http2.connect(rpc.baseUrl);
      session.on("error", () => undefined);
      const closed = sessionClosed(session, opened);
      const stream = session.request({ ":method": "POST", ":path": "/grpc.health.v1.Health/Check", "content-type": "application/json" });
      stream.on("error", () => undefined);
      stream.resume();
      const timer = setInterval(() => !stream.destroyed && stream.write(" "), 50);
      const streamMs = await new Promise<number>((resolve) => stream.once("close", () => resolve(Date.now() - opened)));
      clearInterval(timer);
      assert.equal(stream.rstCode, http2.constants.NGHTTP2_CANCEL);
      assert.ok(streamMs <= TIMEOUTS.requestTimeoutMs + SLACK_MS, `reset after ${streamMs} ms`);
      const ms = await closed;
      assert.ok(ms - streamMs <= TIMEOUTS.idleTimeoutMs + SLACK_MS, `session closed ${ms - streamMs} ms after its last stream`);
    });

    it("keeps a server stream that stays silent longer than every limit (gRPC over h2c)", async () => {
      const fetcher = createClient(ReviewFetcher, createGrpcTransport({ baseUrl: rpc.baseUrl }));
      const jobs = [];
      for await (const res of fetcher.watchFetchJob({ jobId: "j2" })) jobs.push(res.job?.tenantId);
      assert.deepEqual(jobs, ["", "after-silence"]);
    });
  });
});
