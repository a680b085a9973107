import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { dropDatabase } from "../../lib/db/index.js";
import { connectNats, deleteStreams } from "../../lib/nats/index.js";
import { TEST_ADMIN_KEY, TEST_ENCRYPTION_KEY, TEST_NATS_URL, uniqueDatabaseUrl, uniqueNamespace } from "../../test/helpers/index.js";
import { as, connect, createOAuthClient, createTenant, useTokenEnv } from "../../test/helpers/token-service.js";

describe("TokenService over HTTP/2 (gRPC h2c)", () => {
  const env = useTokenEnv({ overHttp: true });

  it("serves grpc.health.v1, the RPCs, and Prometheus metrics on one port", async () => {
    const api = env.api[0];
    const tenant = await createTenant(api, "http");
    const clientId = await createOAuthClient(api, tenant.operator);
    await connect(api, tenant.operator, clientId);
    const token = await api.validateToken({ clientId }, as(tenant.service));
    assert.match(token.accessToken, /^ya29\./);

    const port = portOf(env);
    const health = createClient(Health, createGrpcTransport({ baseUrl: `http://127.0.0.1:${port}` }));
    assert.equal((await health.check({ service: "reviewflow.token.v1.TokenService" })).status, HealthCheckResponse_ServingStatus.SERVING);

    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    assert.match(metrics, /reviewflow_token_validate_seconds_count\{service="token",source="database"\} 1/);
    assert.match(metrics, /reviewflow_token_refreshes_total/);
  });

  it("answers Connect JSON over HTTP/1.1 for the public callback, with a clear error", async () => {
    const res = await fetch(`http://127.0.0.1:${portOf(env)}/reviewflow.token.v1.TokenService/CompleteOAuth`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ code: "4/0abc", state: "unknown-state" }),
    });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { code: string; message: string };
    assert.equal(body.code, "invalid_argument");
    assert.match(body.message, /state is unknown/);
  });
});

/** The port the first instance listens on, read back from its "listening" log line. */
function portOf(env: ReturnType<typeof useTokenEnv>): number {
  const line = env.logs.lines().find((l) => l.msg === "listening");
  return Number(line?.port);
}

describe("services/token/main.ts", () => {
  const databaseUrl = uniqueDatabaseUrl();
  const namespace = uniqueNamespace();
  after(async () => {
    await dropDatabase(databaseUrl);
    const nats = await connectNats({ url: TEST_NATS_URL, namespace, skipEnsure: true });
    await deleteStreams(nats.jsm, nats.names);
    await nats.close();
  });

  it("starts from the environment, serves, and exits 0 on SIGTERM", async function () {
    this.timeout(30_000);
    const child = spawn(process.execPath, ["--import", "tsx", "services/token/main.ts"], {
      env: {
        ...process.env,
        DATABASE_URL: databaseUrl,
        NATS_URL: TEST_NATS_URL,
        NATS_NAMESPACE: namespace,
        TOKEN_PORT: "0",
        TOKEN_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
        ADMIN_API_KEY: TEST_ADMIN_KEY,
        LOG_LEVEL: "info",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        createInterface({ input: child.stdout! }).on("line", (line) => {
          const entry = JSON.parse(line) as { msg?: string; port?: number };
          if (entry.msg === "listening") resolve(entry.port!);
        });
        child.once("exit", (code) => reject(new Error(`exited early with ${code}`)));
      });
      const health = createClient(Health, createGrpcTransport({ baseUrl: `http://127.0.0.1:${port}` }));
      assert.equal((await health.check({ service: "" })).status, HealthCheckResponse_ServingStatus.SERVING);
      child.kill("SIGTERM");
      const [code] = (await once(child, "exit")) as [number | null];
      assert.equal(code, 0);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });

  it("stops with one clear line and exit 1 on a bad configuration", async function () {
    this.timeout(30_000);
    const child = spawn(process.execPath, ["--import", "tsx", "services/token/main.ts"], {
      env: { ...process.env, TOKEN_ENCRYPTION_KEY: "too-short", DATABASE_URL: databaseUrl },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(child, "exit")) as [number | null];
    assert.equal(code, 1);
    assert.match(stderr.trim(), /^token service: bad configuration: TOKEN_ENCRYPTION_KEY: .*$/);
    assert.ok(!stderr.includes("too-short"));
  });
});
