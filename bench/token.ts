// TokenService benchmark: ValidateToken on a valid token side by side with an empty RPC
// (grpc.health.v1 Check) on the same server in the same run, over gRPC h2c with concurrency; and
// a refresh storm, N clients entering the refresh window at once across 2 instances. The services
// run as child processes (`services/token/main.ts`, as in production); the Google emulator runs
// here. Figures, not asserts. Alone: `node --import tsx bench/token.ts [--reduced]`.
import { randomBytes } from "node:crypto";
import os from "node:os";
import path from "node:path";
import { mkdtempSync, rmSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect as connectNats } from "@nats-io/transport-node";
import pg from "pg";
import { Health } from "../gen/grpc/health/v1/health_pb.js";
import { Role } from "../gen/reviewflow/token/v1/resources_pb.js";
import { TokenService } from "../gen/reviewflow/token/v1/token_service_pb.js";
import { startGoogleEmulator, type EmulatorClient, type GoogleEmulator } from "../emulator/index.js";
import { loadConfig } from "../lib/config/index.js";
import { dropDatabase } from "../lib/db/index.js";
import { deleteStreams, streamNames } from "../lib/nats/index.js";
import { createServiceClient } from "../lib/rpc/service-client.js";
import { startChildService, type ChildService } from "../scripts/support/child-service.js";
import { grpcHealthy, waitUntilHealthy } from "../scripts/support/health.js";
import { freePorts } from "../scripts/support/ports.js";
import { scratchDatabaseUrl } from "./harness/environment.js";
import { count, formatTable } from "./harness/table.js";
import type { BenchFn, BenchRow, BenchSize } from "./types.js";

type TokenClient = Client<typeof TokenService>;

const SIZES = {
  full: { seconds: 10, warmupSeconds: 1, concurrency: 64, stormClients: 500, callersPerClient: 4 },
  reduced: { seconds: 1, warmupSeconds: 0.2, concurrency: 16, stormClients: 50, callersPerClient: 2 },
} as const;

const REDIRECT_URI = "http://127.0.0.1:9/auth/callback";

export const runTokenBench: BenchFn = async ({ size, log = () => undefined }) => {
  const sizes = SIZES[size];
  const env = await startEnvironment(sizes.stormClients + 1, log);
  try {
    const tenant = await env.admin[0].createTenant({ name: `bench-${randomBytes(3).toString("hex")}` });
    const tenantId = tenant.tenant!.id;
    const operatorKey = (await env.admin[0].createApiKey({ tenantId, role: Role.OPERATOR, name: "bench operator" })).key;
    const serviceKey = (await env.admin[0].createApiKey({ tenantId, role: Role.SERVICE, name: "bench service" })).key;
    const operator = createServiceClient(TokenService, env.urls[0], { apiKey: operatorKey });
    const services = env.urls.map((url) => createServiceClient(TokenService, url, { apiKey: serviceKey }));

    log("connecting clients through the consent flow");
    const [hotClient, ...stormClients] = await connectClients(operator, env.googleClients);
    const rows = await throughput(env.urls[0], services[0], hotClient, sizes, log);
    rows.push(...(await refreshStorm(env, services, stormClients, sizes.callersPerClient, log)));
    return rows;
  } finally {
    await env.close();
  }
};

interface Environment {
  emulator: GoogleEmulator;
  databaseUrl: string;
  googleClients: EmulatorClient[];
  urls: string[];
  admin: TokenClient[];
  close(): Promise<void>;
}

/** An emulator with one Google project per client, a scratch database and NATS namespace, and 2 TokenService processes. */
async function startEnvironment(clients: number, log: (line: string) => void): Promise<Environment> {
  const googleClients = Array.from({ length: clients }, (_, i) => ({
    id: `bench-${i}.apps.googleusercontent.com`,
    secret: `bench-secret-${i}`,
  }));
  const emulator = await startGoogleEmulator({ port: 0, autoApprove: true, clients: googleClients });
  const databaseUrl = scratchDatabaseUrl("tokenbench");
  const namespace = `tokenbench${randomBytes(3).toString("hex")}`;
  const natsUrl = loadConfig(process.env).nats.url;
  const adminKey = `rf_bench_admin_${randomBytes(16).toString("base64url")}`;
  const ports = await freePorts(2);
  const logDir = mkdtempSync(path.join(os.tmpdir(), "rf-tokenbench-"));
  const children: ChildService[] = [];
  // the logs stay only when the services failed to start (each run wrote ~0.6 MB to /tmp for good)
  const close = async (keepLogs = false) => {
    await Promise.all(children.map((c) => c.stop(10_000)));
    const nc = await connectNats({ servers: natsUrl }).catch(() => undefined);
    if (nc) {
      await deleteStreams(await jetstreamManager(nc), streamNames(namespace)).catch(() => undefined);
      await nc.close();
    }
    await emulator.close();
    await dropDatabase(databaseUrl).catch(() => undefined);
    if (!keepLogs) rmSync(logDir, { recursive: true, force: true });
  };
  try {
    const base: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATABASE_URL: databaseUrl,
      NATS_URL: natsUrl,
      NATS_NAMESPACE: namespace,
      TOKEN_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
      ADMIN_API_KEY: adminKey,
      GOOGLE_OAUTH_URL: emulator.url,
      // the storm measures callers meeting expired tokens, so no sweeper refreshes them first
      TOKEN_SWEEP_INTERVAL_SECONDS: "0",
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "info",
    };
    // one after the other: the first start creates the database, schema and streams
    for (const [i, port] of ports.entries()) {
      const child = startChildService({
        name: `token-${i + 1}`,
        entry: "services/token/main.ts",
        env: { ...base, TOKEN_PORT: String(port) },
        logFile: path.join(logDir, `token-${i + 1}.log`),
      });
      children.push(child);
      await waitUntilHealthy(child.name, () => grpcHealthy(`http://127.0.0.1:${port}`), { child, timeoutMs: 60_000 });
    }
    log(`2 TokenService processes up (logs in ${logDir})`);
    const urls = ports.map((port) => `http://127.0.0.1:${port}`);
    return {
      emulator,
      databaseUrl,
      googleClients,
      urls,
      admin: urls.map((url) => createServiceClient(TokenService, url, { apiKey: adminKey })),
      close,
    };
  } catch (err) {
    await close(true);
    throw err;
  }
}

/** Registers and connects one client per Google project, 20 consents at a time. */
async function connectClients(operator: TokenClient, googleClients: EmulatorClient[]): Promise<string[]> {
  const ids: string[] = new Array(googleClients.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < googleClients.length; i = next++) {
      const google = googleClients[i];
      const { client } = await operator.createClient({
        name: `bench ${i}`,
        googleClientId: google.id,
        clientSecret: google.secret,
        redirectUri: REDIRECT_URI,
      });
      const started = await operator.startOAuth({ clientId: client!.id });
      const res = await fetch(started.authorizationUrl, { redirect: "manual" });
      const back = new URL(res.headers.get("location") ?? "");
      await operator.completeOAuth({ code: back.searchParams.get("code") ?? "", state: back.searchParams.get("state") ?? "" });
      ids[i] = client!.id;
    }
  };
  await Promise.all(Array.from({ length: 20 }, worker));
  return ids;
}

interface Measured {
  calls: number;
  seconds: number;
  latencies: number[];
}

/** `concurrency` loops calling `call` for `seconds`: how many calls, and each one's latency. */
async function measure(call: () => Promise<unknown>, seconds: number, concurrency: number): Promise<Measured> {
  const latencies: number[] = [];
  const started = performance.now();
  const end = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        await call();
        latencies.push(performance.now() - t);
      }
    }),
  );
  return { calls: latencies.length, seconds: (performance.now() - started) / 1000, latencies };
}

function combine(runs: Measured[]): { perSecond: number; p50: number; p99: number } {
  const latencies = runs.flatMap((r) => r.latencies);
  const seconds = runs.reduce((sum, r) => sum + r.seconds, 0);
  return { perSecond: latencies.length / seconds, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) };
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

const ms = (value: number) => `${value < 10 ? value.toFixed(2) : value.toFixed(1)} ms`;

async function throughput(
  url: string,
  service: TokenClient,
  clientId: string,
  sizes: (typeof SIZES)[BenchSize],
  log: (line: string) => void,
): Promise<BenchRow[]> {
  // one HTTP/2 connection for both, so the comparison is of the RPCs, not of the connections
  const health = createClient(Health, createGrpcTransport({ baseUrl: url }));
  const empty = () => health.check({ service: "" });
  const validate = () => service.validateToken({ clientId });
  await measure(empty, sizes.warmupSeconds, sizes.concurrency);
  await measure(validate, sizes.warmupSeconds, sizes.concurrency);
  log(`measuring ${sizes.seconds} s each at concurrency ${sizes.concurrency}, alternating in 4 rounds`);
  // alternating rounds, so warm-up and a busy neighbour weigh on both alike
  const emptyRuns: Measured[] = [];
  const validateRuns: Measured[] = [];
  for (let round = 0; round < 4; round++) {
    emptyRuns.push(await measure(empty, sizes.seconds / 4, sizes.concurrency));
    validateRuns.push(await measure(validate, sizes.seconds / 4, sizes.concurrency));
  }
  const baseline = combine(emptyRuns);
  const validated = combine(validateRuns);
  const ratio = validated.perSecond / baseline.perSecond;
  return [
    {
      name: `empty RPC (health Check), ${sizes.concurrency} concurrent`,
      figure: `${count(baseline.perSecond)} calls/s, p50 ${ms(baseline.p50)}, p99 ${ms(baseline.p99)}`,
    },
    {
      name: `ValidateToken, valid token, ${sizes.concurrency} concurrent`,
      figure: `${count(validated.perSecond)} calls/s, p50 ${ms(validated.p50)}, p99 ${ms(validated.p99)}`,
      ratio: `${ratio.toFixed(2)} × empty RPC`,
      target: "≥ 0.7",
      met: ratio >= 0.7,
    },
  ];
}

/** Every storm client's token enters the window at once; callers hit both instances together. */
async function refreshStorm(
  env: Environment,
  services: TokenClient[],
  clientIds: string[],
  callersPerClient: number,
  log: (line: string) => void,
): Promise<BenchRow[]> {
  const db = new pg.Client({ connectionString: env.databaseUrl });
  await db.connect();
  try {
    await db.query(`UPDATE tokens SET expires_at = now() + interval '60 seconds' WHERE client_id = ANY($1)`, [clientIds]);
  } finally {
    await db.end();
  }
  env.emulator.controls.resetStats();
  log(`refresh storm: ${clientIds.length} clients × ${callersPerClient} callers over 2 instances`);
  const latencies: number[] = [];
  const started = performance.now();
  const results = await Promise.allSettled(
    clientIds.flatMap((clientId) =>
      Array.from({ length: callersPerClient }, async (_, i) => {
        const t = performance.now();
        const answer = await services[i % services.length].validateToken({ clientId });
        latencies.push(performance.now() - t);
        return answer;
      }),
    ),
  );
  const took = performance.now() - started;
  const served = results.filter((r) => r.status === "fulfilled").length;
  const grants = Object.values(env.emulator.controls.stats().grants).reduce((sum, g) => sum + g.refresh_token, 0);
  const firstError = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (firstError) log(`first failure: ${(firstError.reason as Error).message}`);
  return [
    {
      name: `refresh storm: ${clientIds.length} clients entering the window, 2 instances`,
      figure: `${count(grants)} refresh grants`,
      ratio: `${(grants / clientIds.length).toFixed(2)} per client`,
      target: `exactly ${count(clientIds.length)}`,
      met: grants === clientIds.length,
    },
    {
      name: "refresh storm: callers served",
      figure: `${count(served)} of ${count(results.length)} in ${(took / 1000).toFixed(2)} s, p50 ${ms(percentile(latencies, 0.5))}, p99 ${ms(percentile(latencies, 0.99))}`,
      target: "all",
      met: served === results.length,
    },
  ];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const size: BenchSize = process.argv.includes("--reduced") ? "reduced" : "full";
  runTokenBench({ size, log: (line) => process.stdout.write(`${line}\n`) }).then(
    (rows) => {
      const table = rows.map((r) => [r.name, r.figure, r.ratio ?? "", r.target ?? "", r.met === undefined ? "" : r.met ? "yes" : "NO"]);
      process.stdout.write(`\n${formatTable(["benchmark", "figure", "ratio", "target", "met"], table)}\n`);
      process.exit(0);
    },
    (err: unknown) => {
      process.stderr.write(`token bench failed: ${(err as Error)?.stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
