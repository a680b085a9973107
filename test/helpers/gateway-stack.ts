// The whole system for the gateway's end-to-end tests, in this process but over real ports: the
// Google emulator, a fresh database, a NATS namespace, the TokenService and the ReviewFetcher on
// their own ports, and the gateway in front of them on a port chosen beforehand, so PUBLIC_URL
// (login links) and the clients' redirect URI are the gateway's real address.
import type { DataSource } from "typeorm";
import { startGoogleEmulator, type EmulatorOptions, type GoogleEmulator } from "../../emulator/index.js";
import { dropDatabase, openDatabase } from "../../lib/db/index.js";
import { createMetricsRegistry } from "../../lib/metrics/index.js";
import { connectNats, deleteStreams, natsOptionsFrom, type Nats } from "../../lib/nats/index.js";
import { freePort } from "../../scripts/support/ports.js";
import { captureLogs, TEST_ADMIN_KEY, testConfig, uniqueDatabaseUrl, uniqueNamespace } from "./index.js";
import { createFetcherService, type FetcherServiceInstance } from "../../services/fetcher/server.js";
import { tokenEntities } from "../../services/token/entities/index.js";
import { createTokenService, type TokenServiceInstance } from "../../services/token/server.js";
import { createGatewayMetrics } from "../../services/gateway/metrics.js";
import { createGatewayService, type GatewayServiceInstance } from "../../services/gateway/server.js";

export const DEMO_GOOGLE_CLIENT = { id: "demo-client.apps.googleusercontent.com", secret: "demo-secret" };

export interface GatewayStack {
  readonly base: string;
  readonly emulator: GoogleEmulator;
  readonly dataSource: DataSource;
  readonly gateway: GatewayServiceInstance;
  readonly tokenUrl: string;
  readonly fetcherUrl: string;
  readonly logs: ReturnType<typeof captureLogs>;
}

export interface GatewayStackOptions {
  emulator?: Omit<EmulatorOptions, "port" | "clients">;
  env?: Record<string, string>;
}

/** The stack for the surrounding describe, torn down after it. */
export function useGatewayStack(options: GatewayStackOptions = {}): GatewayStack {
  const state = {} as {
    emulator: GoogleEmulator;
    databaseUrl: string;
    dataSource: DataSource;
    nats: Nats;
    token: TokenServiceInstance;
    fetcher: FetcherServiceInstance;
    gateway: GatewayServiceInstance;
    base: string;
    tokenUrl: string;
    fetcherUrl: string;
    logs: ReturnType<typeof captureLogs>;
  };
  before(async function () {
    this.timeout(60_000);
    state.logs = captureLogs("info");
    state.emulator = await startGoogleEmulator({
      port: 0,
      seed: "tiny",
      autoApprove: false,
      clients: [DEMO_GOOGLE_CLIENT],
      ...options.emulator,
    });
    state.databaseUrl = uniqueDatabaseUrl();
    const namespace = uniqueNamespace();
    const gatewayPort = await freePort();
    state.base = `http://127.0.0.1:${gatewayPort}`;
    const env = {
      ADMIN_API_KEY: TEST_ADMIN_KEY,
      DATABASE_URL: state.databaseUrl,
      NATS_NAMESPACE: namespace,
      GOOGLE_OAUTH_URL: state.emulator.url,
      GOOGLE_API_URL: state.emulator.url,
      PUBLIC_URL: state.base,
      FETCH_POLL_MS: "50",
      // jobs here are the tests' own; the scheduler's tests turn it on
      SYNC_ENABLED: "false",
      FETCH_RETRY_BASE_MS: "50",
      FETCH_ACK_WAIT_MS: "5000",
      GATEWAY_RATE_PER_KEY: "100000",
      GATEWAY_RATE_PER_TENANT: "100000",
      GATEWAY_RATE_PER_IP: "100000",
      GATEWAY_SSE_KEEPALIVE_MS: "50",
      ...options.env,
    };
    // the same start order as `npm start`: token, fetcher (told where the token service is), gateway (told where both are)
    const base = testConfig(env);
    state.dataSource = await openDatabase({ databaseUrl: state.databaseUrl, entities: tokenEntities, poolSize: 10 });
    state.nats = await connectNats(natsOptionsFrom(base, { stageConsumers: true }));

    state.token = createTokenService({
      config: base,
      dataSource: state.dataSource,
      nats: state.nats,
      logger: state.logs.logger.child({ service: "token" }),
      metrics: createMetricsRegistry("token", { processMetrics: false }),
      settings: { sweepIntervalMs: 0 },
    });
    state.tokenUrl = `http://127.0.0.1:${await state.token.start(0)}`;

    const withToken = testConfig({ ...env, TOKEN_SERVICE_URL: state.tokenUrl });
    state.fetcher = createFetcherService({
      config: withToken,
      dataSource: state.dataSource,
      nats: state.nats,
      logger: state.logs.logger.child({ service: "fetcher" }),
      metrics: createMetricsRegistry("fetcher", { processMetrics: false }),
      watchIntervalMs: 50,
    });
    state.fetcherUrl = `http://127.0.0.1:${await state.fetcher.start(0)}`;

    const config = testConfig({ ...env, TOKEN_SERVICE_URL: state.tokenUrl, FETCHER_SERVICE_URL: state.fetcherUrl });
    state.gateway = createGatewayService({
      config,
      dataSource: state.dataSource,
      nats: state.nats,
      logger: state.logs.logger.child({ service: "gateway" }),
      metrics: createGatewayMetrics({ processMetrics: false }),
    });
    await state.gateway.start(gatewayPort);
  });
  after(async function () {
    this.timeout(60_000);
    await state.gateway?.stop();
    await state.fetcher?.stop();
    await state.token?.stop();
    if (state.nats) {
      await deleteStreams(state.nats.jsm, state.nats.names).catch(() => undefined);
      await state.nats.close();
    }
    await state.dataSource?.destroy().catch(() => undefined);
    if (state.databaseUrl) await dropDatabase(state.databaseUrl);
    await state.emulator?.close();
  });
  const read = <K extends keyof typeof state>(key: K) => {
    if (state[key] === undefined) throw new Error("useGatewayStack: read it inside a test, not at describe time");
    return state[key];
  };
  return {
    get base() {
      return read("base");
    },
    get emulator() {
      return read("emulator");
    },
    get dataSource() {
      return read("dataSource");
    },
    get gateway() {
      return read("gateway");
    },
    get tokenUrl() {
      return read("tokenUrl");
    },
    get fetcherUrl() {
      return read("fetcherUrl");
    },
    get logs() {
      return read("logs");
    },
  };
}

/**
 * A person's browser on the emulator's consent page: follows `url` (a gateway login link) to
 * Google, reads the form, presses Allow or Cancel, and returns where Google sends the browser back
 * (the gateway's /auth/callback with code and state, or error=access_denied).
 */
export async function consentInBrowser(url: string, decision: "allow" | "deny"): Promise<string> {
  const login = await fetch(url, { redirect: "manual" });
  if (login.status !== 302) throw new Error(`login link answered ${login.status}: ${await login.text()}`);
  const authorize = login.headers.get("location")!;
  const page = await fetch(authorize);
  const html = await page.text();
  const consentId = /name="consent_id" value="([^"]+)"/.exec(html)?.[1];
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
  if (!consentId || !action) throw new Error(`no consent form on the page (${page.status})`);
  const posted = await fetch(new URL(action, authorize), {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ consent_id: consentId, decision }).toString(),
    redirect: "manual",
  });
  const back = posted.headers.get("location");
  if (posted.status !== 302 || !back) throw new Error(`consent form answered ${posted.status}`);
  return back;
}
