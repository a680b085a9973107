// Fixtures for the TokenService's tests: a migrated database, a NATS namespace, the Google
// emulator and one or more service instances (each with its own connection pool, as separate
// processes would have), plus the consent dance a browser performs.
import assert from "node:assert/strict";
import { Code, ConnectError, createClient, createRouterTransport, type CallOptions, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import type { DataSource } from "typeorm";
import { TokenService } from "../../gen/reviewflow/token/v1/token_service_pb.js";
import { Role } from "../../gen/reviewflow/token/v1/resources_pb.js";
import { TokenEventSchema, type TokenEvent } from "../../gen/reviewflow/reviews/v1/events_pb.js";
import { dropDatabase, openDatabase } from "../../lib/db/index.js";
import { decodeMessage, type TokenEventName } from "../../lib/nats/index.js";
import { createMetricsRegistry } from "../../lib/metrics/index.js";
import { startGoogleEmulator, type EmulatorClient, type EmulatorOptions, type GoogleEmulator } from "../../emulator/index.js";
import { captureLogs, TEST_ADMIN_KEY, testConfig, uniqueDatabaseUrl, useTestStreams, type TestStreams } from "./index.js";
import { tokenEntities } from "../../services/token/entities/index.js";
import { createGoogleOAuth, type GoogleOAuth, type GoogleTokens } from "../../services/token/google-oauth.js";
import { createTokenService, type TokenServiceInstance } from "../../services/token/server.js";
import type { Clock, TokenSettings } from "../../services/token/settings.js";

export const DEMO_CLIENT: EmulatorClient = { id: "demo-client.apps.googleusercontent.com", secret: "demo-secret" };
export const OTHER_CLIENT: EmulatorClient = { id: "other-client.apps.googleusercontent.com", secret: "other-secret" };
export const REDIRECT_URI = "http://127.0.0.1:9/auth/callback";
/** More Google OAuth clients the emulator knows, so each test counts the grants of its own. */
export const GOOGLE_CLIENTS: EmulatorClient[] = Array.from({ length: 20 }, (_, i) => ({
  id: `project-${i}.apps.googleusercontent.com`,
  secret: `secret-${i}-x`,
}));

export const admin: CallOptions = { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } };
export const as = (key: string): CallOptions => ({ headers: { authorization: `Bearer ${key}` } });

/** Asserts that a call fails with `expected` and a message matching `message`. */
export const rejects = (promise: Promise<unknown>, expected: Code, message: RegExp) =>
  assert.rejects(promise, (err: unknown) => {
    const e = ConnectError.from(err);
    assert.equal(Code[e.code], Code[expected], e.rawMessage);
    assert.match(e.rawMessage, message);
    return true;
  });

/** A clock the tests move forward: tokens and states expire without waiting. */
export interface TestClock extends Clock {
  advance(ms: number): void;
}

export function createTestClock(): TestClock {
  let offset = 0;
  return { now: () => Date.now() + offset, advance: (ms) => void (offset += ms) };
}

/** The real Google adapter, remembering every token Google handed out (to look for them where they must not be). */
export interface RecordingGoogle extends GoogleOAuth {
  seen: GoogleTokens[];
}

export function recordingGoogle(inner: GoogleOAuth): RecordingGoogle {
  const seen: GoogleTokens[] = [];
  const keep = (tokens: GoogleTokens) => (seen.push(tokens), tokens);
  return {
    seen,
    createPkce: () => inner.createPkce(),
    authorizationUrl: (input) => inner.authorizationUrl(input),
    exchangeCode: async (client, input) => keep(await inner.exchangeCode(client, input)),
    refresh: async (client, token) => keep(await inner.refresh(client, token)),
    revoke: (token) => inner.revoke(token),
  };
}

export interface TokenEnv {
  readonly emulator: GoogleEmulator;
  readonly streams: TestStreams;
  readonly databaseUrl: string;
  readonly dataSource: DataSource;
  readonly clock: TestClock;
  readonly instances: TokenServiceInstance[];
  /** One client per instance (in-process router transport, same interceptors as the server). */
  readonly api: Client<typeof TokenService>[];
  readonly google: RecordingGoogle;
  readonly logs: ReturnType<typeof captureLogs>;
}

export interface TokenEnvOptions {
  instances?: number;
  emulator?: EmulatorOptions;
  settings?: Partial<TokenSettings>;
  /** Serve each instance on a real port and talk gRPC (h2c) to it. */
  overHttp?: boolean;
}

/** Everything a TokenService test needs, for the surrounding describe; torn down after it. */
export function useTokenEnv(options: TokenEnvOptions = {}): TokenEnv {
  const streams = useTestStreams();
  const state = {} as {
    emulator: GoogleEmulator;
    databaseUrl: string;
    dataSources: DataSource[];
    clock: TestClock;
    instances: TokenServiceInstance[];
    api: Client<typeof TokenService>[];
    google: RecordingGoogle;
    logs: ReturnType<typeof captureLogs>;
  };
  before(async function () {
    this.timeout(30_000);
    state.emulator = await startGoogleEmulator({
      port: 0,
      autoApprove: true,
      clients: [DEMO_CLIENT, OTHER_CLIENT, ...GOOGLE_CLIENTS],
      ...options.emulator,
    });
    state.databaseUrl = uniqueDatabaseUrl();
    state.clock = createTestClock();
    state.logs = captureLogs();
    const config = testConfig({
      ADMIN_API_KEY: TEST_ADMIN_KEY,
      GOOGLE_OAUTH_URL: state.emulator.url,
      PUBLIC_URL: "http://gateway.test",
      DATABASE_URL: state.databaseUrl,
    });
    state.google = recordingGoogle(createGoogleOAuth({ endpoints: config.google.endpoints, timeoutMs: 5_000 }));
    state.dataSources = [];
    state.instances = [];
    state.api = [];
    for (let i = 0; i < (options.instances ?? 1); i++) {
      const dataSource = await openDatabase({ databaseUrl: state.databaseUrl, entities: tokenEntities, poolSize: 10 });
      state.dataSources.push(dataSource);
      const instance = createTokenService({
        config,
        dataSource,
        nats: streams.nats,
        logger: state.logs.logger.child({ instance: i }),
        clock: state.clock,
        google: state.google,
        metrics: createMetricsRegistry("token", { processMetrics: false }),
        settings: { sweepIntervalMs: 0, ...options.settings },
      });
      // on a free port: several instances (and suites) run side by side
      const port = await instance.start(0);
      state.instances.push(instance);
      if (options.overHttp) {
        state.api.push(createClient(TokenService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${port}` })));
      } else {
        state.api.push(
          createClient(TokenService, createRouterTransport(instance.routes, { router: { interceptors: instance.interceptors } })),
        );
      }
    }
  });
  after(async function () {
    this.timeout(30_000);
    for (const instance of state.instances ?? []) await instance.stop();
    for (const ds of state.dataSources ?? []) await ds.destroy().catch(() => undefined);
    if (state.databaseUrl) await dropDatabase(state.databaseUrl);
    await state.emulator?.close();
  });
  const read = <K extends keyof typeof state>(key: K) => {
    if (state[key] === undefined) throw new Error("useTokenEnv: read it inside a test, not at describe time");
    return state[key];
  };
  return {
    get emulator() {
      return read("emulator");
    },
    streams,
    get databaseUrl() {
      return read("databaseUrl");
    },
    get dataSource() {
      return read("dataSources")[0];
    },
    get clock() {
      return read("clock");
    },
    get instances() {
      return read("instances");
    },
    get api() {
      return read("api");
    },
    get google() {
      return read("google");
    },
    get logs() {
      return read("logs");
    },
  };
}

/** A tenant with one key of each non-admin role. */
export async function createTenant(api: Client<typeof TokenService>, name: string) {
  const { tenant } = await api.createTenant({ name }, admin);
  const key = async (role: Role) => (await api.createApiKey({ tenantId: tenant!.id, role, name: `${name}-${Role[role]}` }, admin)).key;
  return { id: tenant!.id, operator: await key(Role.OPERATOR), reader: await key(Role.READER), service: await key(Role.SERVICE) };
}

export async function createOAuthClient(
  api: Client<typeof TokenService>,
  key: string,
  google: EmulatorClient = DEMO_CLIENT,
  name = "main",
): Promise<string> {
  const { client } = await api.createClient(
    { name, googleClientId: google.id, clientSecret: google.secret, redirectUri: REDIRECT_URI },
    as(key),
  );
  return client!.id;
}

/** Follows Google's authorization URL as a consenting browser would, returning what lands on the redirect URI. */
export async function consentAt(authorizationUrl: string): Promise<{ code: string; state: string }> {
  const res = await fetch(authorizationUrl, { redirect: "manual" });
  const location = res.headers.get("location");
  if (res.status !== 302 || !location) throw new Error(`authorize answered ${res.status}: ${await res.text()}`);
  const back = new URL(location);
  return { code: back.searchParams.get("code") ?? "", state: back.searchParams.get("state") ?? "" };
}

/** The whole consent flow for a client; resolves once its tokens are stored. */
export async function connect(api: Client<typeof TokenService>, key: string, clientId: string): Promise<void> {
  const started = await api.startOAuth({ clientId }, as(key));
  const { code, state } = await consentAt(started.authorizationUrl);
  await api.completeOAuth({ code, state });
}

/** Waits for something another instance does asynchronously (a LISTEN/NOTIFY delivery). */
export async function eventually(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The first TOKEN_EVENTS message for a client and event, read with an ordered consumer (2.9-compatible filter). */
export async function nextTokenEvent(streams: TestStreams, clientId: string, event: TokenEventName): Promise<TokenEvent> {
  const { names, js } = streams.nats;
  const consumer = await js.consumers.get(names.tokenEvents.stream, { filter_subjects: names.tokenEvents.subject(clientId, event) });
  const msg = await consumer.next({ expires: 5_000 });
  if (!msg) throw new Error(`no ${event} event for client ${clientId}`);
  return decodeMessage(TokenEventSchema, msg.data, msg.headers);
}
