// reviewflow's services as child processes on spare ports, against a given Postgres database,
// NATS server and Google: what the drills break and the pipeline benchmark times. Each process
// is started exactly as `npm run token|fetcher|gateway` would start it.
import { randomBytes } from "node:crypto";
import path from "node:path";
import type { Client } from "@connectrpc/connect";
import { ReviewFetcher } from "../../gen/reviewflow/fetcher/v1/fetcher_pb.js";
import { TokenService } from "../../gen/reviewflow/token/v1/token_service_pb.js";
import { createServiceClient } from "../../lib/rpc/service-client.js";
import { startChildService, type ChildService } from "../../scripts/support/child-service.js";
import type { TokenClient } from "../../scripts/support/demo-seed.js";
import { grpcHealthy, httpHealthy, ServiceStartError, waitUntilHealthy } from "../../scripts/support/health.js";
import { freePorts } from "../../scripts/support/ports.js";
import { prepareStorage } from "../../scripts/support/storage.js";
import { loadConfig } from "../../lib/config/index.js";

export type FetcherClient = Client<typeof ReviewFetcher>;

export interface StackOptions {
  databaseUrl: string;
  natsUrl: string;
  /** NATS_NAMESPACE; undefined leaves it unset, so the services derive theirs from DATABASE_URL (the default). */
  namespace: string | undefined;
  /** Origin of Google (the emulator): GOOGLE_OAUTH_URL and GOOGLE_API_URL. */
  googleUrl: string;
  /** How many fetcher instances (default 1). */
  fetchers?: number;
  /** Also run the gateway. */
  gateway?: boolean;
  /** Extra environment for every service (FETCH_ACK_WAIT_MS, GOOGLE_QPM, ...). */
  env?: Record<string, string>;
  /** Where the services' JSON logs go, one file each. */
  logDir: string;
  /** Echo log lines (debugging a drill). */
  echo?: boolean;
  /** Profile every service (node --cpu-prof) into <profileDir>/<service>; default BENCH_CPU_PROF_DIR. */
  profileDir?: string;
}

export interface Stack {
  adminKey: string;
  token: TokenClient;
  /** A client of the first fetcher instance (any instance serves any job). */
  fetcher: FetcherClient;
  /** A client of fetcher instance `index`. */
  fetcherAt(index: number): FetcherClient;
  tokenService: ChildService;
  fetcherServices: ChildService[];
  gatewayService?: ChildService;
  gatewayUrl?: string;
  /** kill -9 of fetcher `index`. */
  killFetcher(index: number): Promise<void>;
  /** Starts fetcher `index` again on its port (as a supervisor would after a crash), with `env` over the stack's. */
  startFetcher(index: number, env?: Record<string, string>): Promise<void>;
  /** Stops fetcher `index` in order (SIGTERM, then SIGKILL after `graceMs`). */
  stopFetcher(index: number, graceMs?: number): Promise<void>;
  /** Stops everything (SIGTERM, then SIGKILL). */
  stop(): Promise<void>;
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const fetcherCount = options.fetchers ?? 1;
  const [tokenPort, gatewayPort, ...fetcherPorts] = await freePorts(2 + fetcherCount);
  const adminKey = `rf_bench_admin_${randomBytes(16).toString("base64url")}`;
  const base: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DATABASE_URL: options.databaseUrl,
    NATS_URL: options.natsUrl,
    ...(options.namespace === undefined ? {} : { NATS_NAMESPACE: options.namespace }),
    TOKEN_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
    ADMIN_API_KEY: adminKey,
    GOOGLE_OAUTH_URL: options.googleUrl,
    GOOGLE_API_URL: options.googleUrl,
    TOKEN_PORT: String(tokenPort),
    GATEWAY_PORT: String(gatewayPort),
    TOKEN_SERVICE_URL: `http://127.0.0.1:${tokenPort}`,
    FETCHER_SERVICE_URL: `http://127.0.0.1:${fetcherPorts[0]}`,
    PUBLIC_URL: `http://127.0.0.1:${gatewayPort}`,
    LOG_LEVEL: "info",
    // benchmarks and drills measure the jobs they start; the sync benchmark turns it on
    SYNC_ENABLED: "false",
    // a bench run can try another fetcher pool size: FETCH_DATABASE_CONNECTIONS=20 npm run bench
    ...(process.env.FETCH_DATABASE_CONNECTIONS ? { FETCH_DATABASE_CONNECTIONS: process.env.FETCH_DATABASE_CONNECTIONS } : {}),
    ...options.env,
  };
  const children: ChildService[] = [];
  // BENCH_CPU_PROF_DIR: every service writes V8 CPU profiles into <dir>/<service> when it stops
  // (node --cpu-prof): how the bench's load is profiled. Node names each file after its pid and
  // thread (tsx's module loader runs on a thread of its own; the largest file is the main thread)
  const profileDir = options.profileDir ?? process.env.BENCH_CPU_PROF_DIR;
  const spawnService = (name: string, entry: string, env: NodeJS.ProcessEnv) => {
    const child = startChildService({
      name,
      entry,
      env,
      nodeArgs: profileDir ? ["--cpu-prof", "--cpu-prof-dir", path.resolve(profileDir, name)] : undefined,
      logFile: path.join(options.logDir, `${name}.log`),
      onLine: options.echo ? (line) => process.stderr.write(`[${name}] ${line}\n`) : undefined,
    });
    children.push(child);
    return child;
  };
  const fetcherServices: ChildService[] = [];
  const startFetcher = async (index: number, env?: Record<string, string>) => {
    const port = fetcherPorts[index]!;
    const child = spawnService(`fetcher-${index + 1}`, "services/fetcher/main.ts", { ...base, ...env, FETCHER_PORT: String(port) });
    fetcherServices[index] = child;
    await waitUntilHealthy(child.name, () => grpcHealthy(`http://127.0.0.1:${port}`), { child, timeoutMs: 60_000 });
  };

  await prepareStorage(loadConfig(base));
  try {
    // storage is ready, so every service can start at once
    const tokenService = spawnService("token", "services/token/main.ts", base);
    const pending: Promise<void>[] = [
      waitUntilHealthy("token", () => grpcHealthy(`http://127.0.0.1:${tokenPort}`), { child: tokenService, timeoutMs: 60_000 }),
    ];
    for (let i = 0; i < fetcherCount; i++) pending.push(startFetcher(i));
    let gatewayService: ChildService | undefined;
    if (options.gateway) {
      gatewayService = spawnService("gateway", "services/gateway/main.ts", base);
      pending.push(
        waitUntilHealthy("gateway", () => httpHealthy(`http://127.0.0.1:${gatewayPort}/ready`), {
          child: gatewayService,
          timeoutMs: 60_000,
        }),
      );
    }
    await Promise.all(pending);
    return {
      adminKey,
      token: createServiceClient(TokenService, `http://127.0.0.1:${tokenPort}`, { apiKey: adminKey }),
      fetcher: createServiceClient(ReviewFetcher, `http://127.0.0.1:${fetcherPorts[0]}`, { apiKey: adminKey }),
      fetcherAt: (index) => createServiceClient(ReviewFetcher, `http://127.0.0.1:${fetcherPorts[index]}`, { apiKey: adminKey }),
      tokenService,
      fetcherServices,
      gatewayService,
      gatewayUrl: options.gateway ? `http://127.0.0.1:${gatewayPort}` : undefined,
      async killFetcher(index) {
        await fetcherServices[index]?.kill();
      },
      startFetcher,
      async stopFetcher(index, graceMs) {
        await fetcherServices[index]?.stop(graceMs);
      },
      async stop() {
        await Promise.all([...children].reverse().map((c) => c.stop(10_000)));
      },
    };
  } catch (err) {
    await Promise.all(children.map((c) => c.stop(5_000)));
    // a harness failure must show why the service died, not only that it did
    if (err instanceof ServiceStartError && err.logLines.length) {
      throw new ServiceStartError(
        err.service,
        `${err.message.slice(err.service.length + 1)}; its last lines:\n${err.logLines.slice(-8).join("\n")}`,
        err.logLines,
      );
    }
    throw err;
  }
}
