import assert from "node:assert/strict";
import http from "node:http";
import http2 from "node:http2";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { JobStatus, ReviewFetcher } from "../../gen/reviewflow/fetcher/v1/fetcher_pb.js";
import { TokenService } from "../../gen/reviewflow/token/v1/token_service_pb.js";
import type { RpcServer } from "../../lib/rpc/index.js";
import type { GatewayServiceInstance } from "./server.js";
import {
  BUSY_BRANCH,
  GOOD_LINK,
  GOOD_STATE,
  parseSse,
  startStandInGateway,
  startTestGateway,
  type FakeWorld,
  type StandInGateway,
  type TestKeys,
} from "../../test/helpers/gateway.js";
import { captureLogs, useTestDatabase } from "../../test/helpers/index.js";

/**
 * What the gateway itself does, in front of stand-in services (real auth, canned answers):
 * transcoding, errors, limits, CORS, protocols, events, pages, probes. The real services are
 * exercised in test/gateway-e2e.test.ts.
 */
describe("gateway (edge behaviour, stand-in services)", () => {
  const db = useTestDatabase();
  const logs = captureLogs("info");
  let fakes: { server: RpcServer; world: FakeWorld };
  let upstreamUrl: string;
  let base: string;
  let keys: TestKeys;
  let clientA: string;
  let jobA: string;

  const call = (path: string, init: RequestInit & { key?: string } = {}) => {
    const headers = new Headers(init.headers);
    if (init.key) headers.set("authorization", `Bearer ${init.key}`);
    return fetch(`${base}${path}`, { ...init, headers });
  };
  const json = async (res: Response) => (await res.json()) as Record<string, any>;

  let standIn: StandInGateway;
  before(async () => {
    standIn = await startStandInGateway({
      dataSource: db.dataSource,
      logger: logs.logger,
      env: { CORS_ORIGINS: "https://app.example.com", GATEWAY_BODY_LIMIT_BYTES: "65536" },
    });
    ({ base, upstreamUrl, fakes, keys, clientA, jobA } = standIn);
  });
  after(() => standIn?.close());

  describe("REST transcoding", () => {
    it("answers a GET with the proto field names, a request id and X-Process-Time", async () => {
      const res = await call(`/clients/${clientA}`, { key: keys.readerA, headers: { "x-request-id": "req-123" } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("x-request-id"), "req-123");
      assert.match(res.headers.get("x-process-time") ?? "", /^\d+\.\d{6}$/);
      const body = await json(res);
      assert.equal(body.client.id, clientA);
      assert.equal(body.client.tenant_id, keys.tenantA);
      assert.equal(body.client.status, "CONNECTION_STATUS_CONNECTED");
      // the service saw the same request id (its log line names it)
      const upstreamLine = logs
        .lines()
        .find((l) => l.method === "reviewflow.token.v1.TokenService/GetClient" && l.request_id === "req-123");
      assert.ok(upstreamLine, "the request id reached the service");
    });

    it("generates a request id when none (or a malformed one) is sent", async () => {
      const res = await call(`/clients/${clientA}`, { key: keys.readerA, headers: { "x-request-id": "bad id with spaces" } });
      assert.match(res.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/);
    });

    it("answers POST /api/v1/review-fetch with 202 and {job_id, status}", async () => {
      const res = await call("/api/v1/review-fetch", {
        method: "POST",
        key: keys.operatorA,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ client_id: clientA, mode: "FETCH_MODE_FULL" }),
      });
      assert.equal(res.status, 202);
      const body = await json(res);
      assert.match(body.job_id, /^[0-9a-f-]{36}$/);
      assert.equal(body.status, "JOB_STATUS_QUEUED");
      assert.equal(body.job.mode, "FETCH_MODE_FULL");
    });

    it("binds query parameters to fields: Timestamps, integers, enums", async () => {
      const res = await call(
        `/api/v1/reviews?client_id=${clientA}&location_id=L-9&updated_after=2026-01-01T00:00:00Z&page_size=7&minRating=4`,
        { key: keys.readerA },
      );
      assert.equal(res.status, 200);
      const body = await json(res);
      assert.deepEqual(body.reviews, []);
      assert.deepEqual(JSON.parse(body.next_page_token), {
        location_id: "L-9",
        client_id: clientA,
        page_size: 7,
        min_rating: 4,
        updated_after: 1767225600,
      });
    });

    it("answers REST over h2c (HTTP/2 without TLS) on the same port", async () => {
      const session = http2.connect(base);
      try {
        const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
          const stream = session.request({ ":path": `/clients/${clientA}`, authorization: `Bearer ${keys.readerA}` });
          let status = 0;
          let body = "";
          stream.on("response", (headers) => (status = Number(headers[":status"])));
          stream.on("data", (chunk) => (body += chunk));
          stream.on("end", () => resolve({ status, body }));
          stream.on("error", reject);
        });
        assert.equal(status, 200);
        assert.equal(JSON.parse(body).client.id, clientA);
      } finally {
        session.close();
      }
    });

    it("serves the additional binding /api/v1/status/{job_id} like /api/v1/jobs/{job_id}", async () => {
      for (const path of [`/api/v1/jobs/${jobA}`, `/api/v1/status/${jobA}`]) {
        const res = await call(path, { key: keys.readerA });
        assert.equal(res.status, 200, path);
        assert.equal((await json(res)).job.job_id, jobA);
      }
    });
  });

  describe("errors", () => {
    it("answers 401 JSON without a key and with a bad one", async () => {
      const none = await call(`/clients/${clientA}`);
      assert.equal(none.status, 401);
      assert.deepEqual(await json(none), { code: "unauthenticated", message: "missing API key: send `Authorization: Bearer <api key>`" });
      const bad = await call(`/clients/${clientA}`, {
        key: "rfk_00000000000000000000000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
      });
      assert.equal(bad.status, 401);
      assert.equal((await json(bad)).code, "unauthenticated");
    });

    it("answers 403 when the service refuses the key's role", async () => {
      const res = await call(`/tokens/validate/${clientA}`, { key: keys.readerA });
      assert.equal(res.status, 403);
      const body = await json(res);
      assert.equal(body.code, "permission_denied");
      assert.match(body.message, /role "reader" may not read access tokens/);
      assert.equal((await call(`/tokens/validate/${clientA}`, { key: keys.serviceA })).status, 200);
    });

    it("keeps tenants apart: another tenant's client is 404", async () => {
      const res = await call(`/clients/${clientA}`, { key: keys.operatorB });
      assert.equal(res.status, 404);
      assert.equal((await json(res)).code, "not_found");
      assert.deepEqual((await json(await call("/clients", { key: keys.operatorB }))).clients, []);
      assert.equal((await json(await call("/clients", { key: keys.admin }))).clients.length, 1);
    });

    it("answers 404 for unknown routes and 405 with Allow for a wrong method", async () => {
      const missing = await call("/nowhere", { key: keys.admin });
      assert.equal(missing.status, 404);
      assert.equal((await json(missing)).code, "not_found");
      const wrong = await call(`/clients/${clientA}`, { method: "PUT", key: keys.admin, body: "{}" });
      assert.equal(wrong.status, 405);
      assert.equal(wrong.headers.get("allow"), "GET, PATCH, DELETE");
      assert.equal((await json(wrong)).code, "unimplemented");
    });

    it("answers a wrong method or media type on an RPC path with 405 / 415 and the JSON error body", async () => {
      const rpc = "/reviewflow.token.v1.TokenService/CreateClient";
      const put = await call(rpc, { method: "PUT", key: keys.admin, headers: { "content-type": "application/json" }, body: "{}" });
      assert.equal(put.status, 405);
      assert.equal(put.headers.get("allow"), "POST");
      assert.deepEqual(await json(put), { code: "unimplemented", message: `PUT is not allowed on ${rpc}; use POST` });
      const html = await call(rpc, { method: "POST", key: keys.admin, headers: { "content-type": "text/html" }, body: "{}" });
      assert.equal(html.status, 415);
      const error = await json(html);
      assert.equal(error.code, "invalid_argument");
      assert.match(error.message, /Content-Type text\/html is not one .* speaks: send application\/json/);
    });

    it("answers 400 with a clear message for malformed JSON, unknown fields and wrong types", async () => {
      const post = (body: string) =>
        call("/clients", { method: "POST", key: keys.operatorA, headers: { "content-type": "application/json" }, body });
      const cases: [string, RegExp][] = [
        ['{"name": "x",', /malformed JSON body/],
        ['{"name": "x", "colour": "red"}', /key "colour" is unknown/],
        ['{"name": 42}', /name.*expected string/],
        ["[1, 2]", /must be a JSON object/],
        ['{"name": "", "google_client_id": "g", "client_secret": "s", "redirect_uri": "https://x"}', /name/],
      ];
      for (const [body, message] of cases) {
        const res = await post(body);
        assert.equal(res.status, 400, body);
        const error = await json(res);
        assert.equal(error.code, "invalid_argument", body);
        assert.match(error.message, message, body);
        assert.doesNotMatch(error.message, /\bat .*\.ts:\d+/, "no stack trace");
      }
      const query = await call("/api/v1/reviews?page_size=lots", { key: keys.readerA });
      assert.equal(query.status, 400);
      assert.match((await json(query)).message, /"page_size" must be a whole number/);
      const badId = await call("/clients/not-a-uuid", { key: keys.readerA });
      assert.equal(badId.status, 400);
      assert.match((await json(badId)).message, /id.*uuid/i);
    });

    it("answers 415 for a body that is not JSON and 413 for one over the limit", async () => {
      const form = await call("/clients", {
        method: "POST",
        key: keys.operatorA,
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: "name=x",
      });
      assert.equal(form.status, 415);
      assert.match((await json(form)).message, /Content-Type: application\/json/);
      // what a cross-site form or a bare fetch() string sends without a preflight is not JSON
      const plain = await call("/clients", { method: "POST", key: keys.operatorA, headers: { "content-type": "text/plain" }, body: "{}" });
      assert.equal(plain.status, 415);
      assert.equal((await json(plain)).code, "invalid_argument");
      const huge = JSON.stringify({ name: "x".repeat(100_000) });
      const big = await call("/clients", {
        method: "POST",
        key: keys.operatorA,
        headers: { "content-type": "application/json" },
        body: huge,
      });
      assert.equal(big.status, 413);
      assert.deepEqual(await json(big), { code: "resource_exhausted", message: "request body exceeds the limit of 65536 bytes" });
      // without Content-Length (chunked), the limit is enforced while reading
      const chunked = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.request(
          `${base}/clients`,
          {
            method: "POST",
            headers: { authorization: `Bearer ${keys.operatorA}`, "content-type": "application/json", "transfer-encoding": "chunked" },
          },
          (res) => {
            let body = "";
            res.on("data", (c) => (body += c));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on("error", reject);
        req.write(huge.slice(0, 50_000));
        req.end(huge.slice(50_000));
      });
      assert.equal(chunked.status, 413);
    });

    it("passes the service's 429 on with its Retry-After", async () => {
      const res = await call("/api/v1/review-fetch", {
        method: "POST",
        key: keys.operatorA,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ branch_id: BUSY_BRANCH }),
      });
      assert.equal(res.status, 429);
      assert.equal(res.headers.get("retry-after"), "7");
      assert.deepEqual(await json(res), { code: "resource_exhausted", message: "the admission queue is full" });
    });

    it("answers 504 when the service misses the gateway's deadline", async () => {
      const impatient = await startTestGateway({
        dataSource: db.dataSource,
        logger: logs.logger,
        tokenServiceUrl: upstreamUrl,
        fetcherServiceUrl: upstreamUrl,
        env: { GATEWAY_UPSTREAM_TIMEOUT_MS: "150" },
      });
      fakes.world.slowMs = 5_000;
      try {
        const res = await fetch(`${impatient.url}/api/v1/stages`, { headers: { authorization: `Bearer ${keys.admin}` } });
        assert.equal(res.status, 504);
        assert.deepEqual(await json(res), { code: "deadline_exceeded", message: "ReviewFetcher did not answer in time" });
      } finally {
        fakes.world.slowMs = 0;
        await impatient.gateway.stop();
      }
    });
  });

  describe("limits", () => {
    let limited: { gateway: GatewayServiceInstance; url: string };
    before(async () => {
      limited = await startTestGateway({
        dataSource: db.dataSource,
        logger: logs.logger,
        tokenServiceUrl: upstreamUrl,
        fetcherServiceUrl: upstreamUrl,
        env: { GATEWAY_RATE_PER_KEY: "3", GATEWAY_RATE_PER_TENANT: "5", GATEWAY_RATE_PER_IP: "4" },
      });
    });
    after(() => limited.gateway.stop());
    const get = (key?: string) => fetch(`${limited.url}/clients`, { headers: key ? { authorization: `Bearer ${key}` } : {} });

    it("answers 429 with Retry-After once a key has spent its budget, and counts it", async () => {
      const key = await keys.mint("reader", keys.tenantB);
      for (let i = 0; i < 3; i++) assert.equal((await get(key)).status, 200);
      const res = await get(key);
      assert.equal(res.status, 429);
      assert.match(res.headers.get("retry-after") ?? "", /^\d+$/);
      assert.match((await json(res)).message, /3 requests per minute per API key/);
      const metrics = await (await fetch(`${limited.url}/metrics`)).text();
      assert.match(metrics, /reviewflow_gateway_rate_limited_total\{scope="key",service="gateway"\} 1/);
    });

    it("limits a tenant across its keys", async () => {
      const [k1, k2] = [await keys.mint("reader", keys.tenantA), await keys.mint("reader", keys.tenantA)];
      const statuses = [];
      for (const key of [k1, k1, k1, k2, k2, k2]) statuses.push((await get(key)).status);
      assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429]);
    });

    it("shares the counts through Postgres with GATEWAY_RATE_STORE=postgres", async () => {
      const env = { GATEWAY_RATE_STORE: "postgres", GATEWAY_RATE_PER_KEY: "2" };
      const [one, two] = [
        await startTestGateway({
          dataSource: db.dataSource,
          logger: logs.logger,
          tokenServiceUrl: upstreamUrl,
          fetcherServiceUrl: upstreamUrl,
          env,
        }),
        await startTestGateway({
          dataSource: db.dataSource,
          logger: logs.logger,
          tokenServiceUrl: upstreamUrl,
          fetcherServiceUrl: upstreamUrl,
          env,
        }),
      ];
      try {
        const key = await keys.mint("reader", keys.tenantB);
        const at = (g: { url: string }) => fetch(`${g.url}/clients`, { headers: { authorization: `Bearer ${key}` } }).then((r) => r.status);
        // two instances, one budget of 2
        assert.deepEqual([await at(one), await at(two), await at(one)], [200, 200, 429]);
        const [row] = (await db.dataSource.query("SELECT points FROM gateway_rate_limits WHERE key LIKE 'gw_key:%'")) as {
          points: number;
        }[];
        assert.equal(row?.points, 3);
      } finally {
        await one.gateway.stop();
        await two.gateway.stop();
      }
    });

    it("limits calls without a valid key by client address", async () => {
      const statuses = [];
      for (let i = 0; i < 5; i++) statuses.push((await get("wrong")).status);
      assert.deepEqual(statuses, [401, 401, 401, 401, 429]);
    });
  });

  describe("CORS", () => {
    it("answers a preflight from an allowed origin, and refuses others", async () => {
      const ok = await fetch(`${base}/clients`, {
        method: "OPTIONS",
        headers: {
          origin: "https://app.example.com",
          "access-control-request-method": "POST",
          "access-control-request-headers": "authorization, content-type",
        },
      });
      assert.equal(ok.status, 204);
      assert.equal(ok.headers.get("access-control-allow-origin"), "https://app.example.com");
      assert.equal(ok.headers.get("access-control-allow-credentials"), "true");
      assert.match(ok.headers.get("access-control-allow-headers") ?? "", /Authorization/);
      assert.match(ok.headers.get("access-control-allow-methods") ?? "", /PATCH/);
      const bad = await fetch(`${base}/clients`, {
        method: "OPTIONS",
        headers: { origin: "https://evil.example", "access-control-request-method": "GET" },
      });
      assert.equal(bad.status, 403);
      assert.equal(bad.headers.get("access-control-allow-origin"), null);
    });

    it("labels answers to allowed origins and exposes the gateway's headers", async () => {
      const res = await call(`/clients/${clientA}`, { key: keys.readerA, headers: { origin: "https://app.example.com" } });
      assert.equal(res.headers.get("access-control-allow-origin"), "https://app.example.com");
      assert.match(res.headers.get("access-control-expose-headers") ?? "", /X-Request-Id.*X-Process-Time.*Retry-After/);
      const other = await call(`/clients/${clientA}`, { key: keys.readerA, headers: { origin: "https://evil.example" } });
      assert.equal(other.headers.get("access-control-allow-origin"), null);
    });

    it("allows any origin with CORS_ORIGINS=*, never with credentials", async () => {
      const open = await startTestGateway({
        dataSource: db.dataSource,
        logger: logs.logger,
        tokenServiceUrl: upstreamUrl,
        fetcherServiceUrl: upstreamUrl,
        env: { CORS_ORIGINS: "*" },
      });
      try {
        const res = await fetch(`${open.url}/health`, {
          method: "OPTIONS",
          headers: { origin: "https://any.example", "access-control-request-method": "GET" },
        });
        assert.equal(res.status, 204);
        assert.equal(res.headers.get("access-control-allow-origin"), "*");
        assert.equal(res.headers.get("access-control-allow-credentials"), null);
      } finally {
        await open.gateway.stop();
      }
    });
  });

  describe("Connect, gRPC and gRPC-Web", () => {
    const auth = (key: string) => ({ headers: { authorization: `Bearer ${key}` } });

    it("answers the Connect JSON protocol over HTTP/1.1 (curl-style)", async () => {
      const res = await fetch(`${base}/reviewflow.token.v1.TokenService/GetClient`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${keys.readerA}` },
        body: JSON.stringify({ id: clientA }),
      });
      assert.equal(res.status, 200);
      assert.equal((await json(res)).client.tenantId, keys.tenantA);
      const denied = await fetch(`${base}/reviewflow.token.v1.TokenService/GetClient`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ id: clientA }),
      });
      assert.equal(denied.status, 401);
      assert.equal((await json(denied)).code, "unauthenticated");
    });

    it("proxies unary and server-streaming RPCs over gRPC (h2c), gRPC-Web and Connect clients", async () => {
      for (const transport of [
        createGrpcTransport({ baseUrl: base }),
        createGrpcWebTransport({ baseUrl: base, httpVersion: "1.1" }),
        createConnectTransport({ baseUrl: base, httpVersion: "1.1" }),
      ]) {
        const tokens = createClient(TokenService, transport);
        assert.equal((await tokens.getClient({ id: clientA }, auth(keys.readerA))).client?.id, clientA);
        await assert.rejects(
          tokens.getClient({ id: clientA }, auth(keys.operatorB)),
          (e: unknown) => ConnectError.from(e).code === Code.NotFound,
        );
        await assert.rejects(
          tokens.validateToken({ clientId: clientA }, auth(keys.readerA)),
          (e: unknown) => ConnectError.from(e).code === Code.PermissionDenied,
        );
        const fetcher = createClient(ReviewFetcher, transport);
        const statuses = [];
        for await (const msg of fetcher.watchFetchJob({ jobId: jobA }, auth(keys.readerA))) statuses.push(msg.job?.status);
        assert.deepEqual(statuses, [JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.RUNNING, JobStatus.SUCCEEDED]);
      }
    });

    it("keeps the upstream's retry-after on RESOURCE_EXHAUSTED", async () => {
      const fetcher = createClient(ReviewFetcher, createConnectTransport({ baseUrl: base, httpVersion: "1.1" }));
      await assert.rejects(
        fetcher.createFetchJob({ target: { case: "branchId", value: BUSY_BRANCH } }, auth(keys.operatorA)),
        (e: unknown) => {
          const err = ConnectError.from(e);
          return err.code === Code.ResourceExhausted && err.metadata.get("retry-after") === "7";
        },
      );
    });
  });

  describe("Server-Sent Events", () => {
    it("streams a job's states as `job` events, keep-alive comments, then `end`", async () => {
      const res = await call(`/api/v1/jobs/${jobA}/events`, { key: keys.readerA, headers: { accept: "text/event-stream" } });
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type") ?? "", /^text\/event-stream/);
      const events = parseSse(await res.text());
      const jobs = events.filter((e) => e.event === "job").map((e) => JSON.parse(e.data));
      assert.deepEqual(
        jobs.map((j) => j.status),
        ["JOB_STATUS_QUEUED", "JOB_STATUS_RUNNING", "JOB_STATUS_RUNNING", "JOB_STATUS_SUCCEEDED"],
      );
      assert.equal(jobs[3].counters.pages, "3");
      assert.ok(events.some((e) => e.event === "comment" && e.data.includes("keep-alive")));
      assert.deepEqual(events.at(-1), { event: "end", data: '{"reason":"completed"}', id: undefined });
    });

    it("ends open streams with `end` (reason shutdown) when the gateway stops", async () => {
      const extra = await startTestGateway({
        dataSource: db.dataSource,
        logger: logs.logger,
        tokenServiceUrl: upstreamUrl,
        fetcherServiceUrl: upstreamUrl,
      });
      fakes.world.watchStepMs = 60_000;
      try {
        const res = await fetch(`${extra.url}/api/v1/jobs/${jobA}/events`, { headers: { authorization: `Bearer ${keys.readerA}` } });
        const reader = res.body!.getReader();
        let text = new TextDecoder().decode((await reader.read()).value);
        while (!text.includes("event: job")) text += new TextDecoder().decode((await reader.read()).value);
        await extra.gateway.stop();
        for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += new TextDecoder().decode(chunk.value);
        assert.deepEqual(
          parseSse(text)
            .filter((e) => e.event !== "comment")
            .map((e) => e.event),
          ["job", "end"],
        );
        assert.match(text, /event: end\ndata: \{"reason":"shutdown"\}/);
      } finally {
        fakes.world.watchStepMs = 40;
        await extra.gateway.stop();
      }
    });

    it("answers an unknown or foreign job with a JSON 404 instead of a stream", async () => {
      const res = await call(`/api/v1/jobs/${jobA}/events`, { key: keys.operatorB });
      assert.equal(res.status, 404);
      assert.equal((await json(res)).code, "not_found");
    });
  });

  describe("consent pages", () => {
    it("redirects a valid login link to Google's consent page, without a key", async () => {
      const res = await call(`/oauth/login/${clientA}?link=${GOOD_LINK}`, { redirect: "manual" });
      assert.equal(res.status, 302);
      assert.match(res.headers.get("location") ?? "", /^https:\/\/accounts\.example\/o\/oauth2\/v2\/auth\?client=/);
    });

    it("shows a page (or JSON when asked) for a bad link, without internals", async () => {
      const page = await call(`/oauth/login/${clientA}?link=${"x".repeat(20)}`, { redirect: "manual" });
      assert.equal(page.status, 400);
      assert.match(page.headers.get("content-type") ?? "", /text\/html/);
      const html = await page.text();
      assert.match(html, /<h1>This link isn&#39;t valid<\/h1>/);
      assert.match(html, /ask the person who sent you the link for a new one/);
      assert.match(html, /class="small">Error code: failed_precondition \(link_unknown\)/);
      assert.doesNotMatch(html, /at .*\.ts|Error:|127\.0\.0\.1|unknown, used or expired/);
      const asJson = await call(`/oauth/login/${clientA}?link=${"x".repeat(20)}`, { headers: { accept: "application/json" } });
      assert.deepEqual(await json(asJson), { code: "failed_precondition", message: "this login link is unknown, used or expired" });
    });

    it("completes the callback with a page naming the client, or JSON", async () => {
      const page = await call(`/auth/callback?code=c1&state=${GOOD_STATE}&scope=x&authuser=0`);
      assert.equal(page.status, 200);
      assert.equal(page.headers.get("referrer-policy"), "no-referrer");
      const html = await page.text();
      assert.match(html, /<h1>You&#39;re connected<\/h1>/);
      assert.match(html, /<strong>Branch A<\/strong> is now connected/);
      const asJson = await call(`/auth/callback?code=c1&state=${GOOD_STATE}`, { headers: { accept: "application/json" } });
      assert.equal((await json(asJson)).client.name, "Branch A");
    });

    it("says what went wrong when consent was declined or the state is bad", async () => {
      const declined = await call("/auth/callback?error=access_denied&state=s");
      assert.equal(declined.status, 400);
      assert.match(await declined.text(), /You chose not to give access at Google/);
      const stale = await call("/auth/callback?code=c&state=old", { headers: { accept: "application/json" } });
      assert.equal(stale.status, 400);
      assert.deepEqual(await json(stale), { code: "failed_precondition", message: "the consent state is unknown, used or expired" });
      const html = await (await call("/auth/callback?code=<script>&state=<b>")).text();
      assert.doesNotMatch(html, /<script>|<b>/);
    });
  });

  describe("operations", () => {
    it("answers /health, and /ready with each dependency's check", async () => {
      assert.deepEqual(await json(await fetch(`${base}/health`)), { status: "ok" });
      const ready = await fetch(`${base}/ready`);
      const body = await json(ready);
      assert.equal(ready.status, 200, JSON.stringify(body));
      assert.equal(body.status, "ready");
      for (const name of ["postgres", "token_service", "review_fetcher"]) assert.equal(body.checks[name].ok, true, name);
      assert.equal(body.checks.nats.skipped, true);
    });

    it("reports 503 from /ready, and 503 for calls, when a service is down", async () => {
      const down = await startTestGateway({
        dataSource: db.dataSource,
        logger: logs.logger,
        tokenServiceUrl: "http://127.0.0.1:9",
        fetcherServiceUrl: upstreamUrl,
      });
      try {
        const ready = await fetch(`${down.url}/ready`);
        assert.equal(ready.status, 503);
        const body = await json(ready);
        assert.deepEqual(body.checks.token_service, { ok: false, ms: body.checks.token_service.ms, error: "connection refused" });
        assert.equal(body.checks.review_fetcher.ok, true);
        const res = await fetch(`${down.url}/clients`, { headers: { authorization: `Bearer ${keys.admin}` } });
        assert.equal(res.status, 503);
        assert.deepEqual(await json(res), { code: "unavailable", message: "TokenService is unavailable; retry later" });
      } finally {
        await down.gateway.stop();
      }
    });

    it("serves Prometheus metrics by route template, method and status", async () => {
      const text = await (await fetch(`${base}/metrics`)).text();
      assert.match(text, /reviewflow_gateway_requests_total\{route="\/clients\/\{id\}",method="GET",status="200",service="gateway"\} \d+/);
      assert.match(
        text,
        /reviewflow_gateway_requests_total\{route="\/reviewflow\.token\.v1\.TokenService\/GetClient",method="POST",status="200"/,
      );
      assert.match(
        text,
        /reviewflow_gateway_request_duration_seconds_bucket\{le="0.005",service="gateway",route="\/clients\/\{id\}",method="GET"/,
      );
      assert.match(text, /reviewflow_gateway_sse_streams_total\{outcome="completed",service="gateway"\} \d+/);
    });

    it("serves the OpenAPI document of the REST surface", async () => {
      const doc = await json(await fetch(`${base}/openapi.json`));
      assert.equal(doc.openapi, "3.1.0");
      assert.ok(doc.paths["/api/v1/review-fetch"].post.responses["202"]);
      assert.ok(doc.paths["/tokens/validate/{client_id}"].get);
    });

    it("never writes API keys, link secrets or OAuth codes to the log", () => {
      const text = logs.text();
      assert.ok(text.length > 0);
      for (const secret of [keys.operatorA, keys.readerA, keys.admin, GOOD_LINK, GOOD_STATE, "ya29.fake-access-token"]) {
        assert.ok(!text.includes(secret), `log contains ${secret.slice(0, 8)}…`);
      }
    });
  });
});
