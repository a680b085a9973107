import type { DescService } from "@bufbuild/protobuf";
import { createClient, type Client, type Interceptor } from "@connectrpc/connect";
import type { DataSource } from "typeorm";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { DeliverPolicy } from "@nats-io/jetstream";
import { startGoogleEmulator, type EmulatorOptions, type GoogleEmulator } from "../../emulator/index.js";
import type { Config } from "../../lib/config/index.js";
import { openDatabase } from "../../lib/db/index.js";
import { createMetricsRegistry } from "../../lib/metrics/index.js";
import { silentLogger, type Logger } from "../../lib/log/index.js";
import { decodeMessage, type Nats, type StageName } from "../../lib/nats/index.js";
import { ReviewFetcher, JobStatus, type FetchJob } from "../../gen/reviewflow/fetcher/v1/fetcher_pb.js";
import { ReviewEventSchema, type ReviewEvent } from "../../gen/reviewflow/reviews/v1/events_pb.js";
import { Role } from "../../gen/reviewflow/token/v1/resources_pb.js";
import { TokenService } from "../../gen/reviewflow/token/v1/token_service_pb.js";
import { tokenEntities } from "../../services/token/entities/index.js";
import { createTokenService, type TokenServiceInstance } from "../../services/token/server.js";
import { createFetcherService, type FetcherServiceInstance, type FetcherServiceOptions } from "../../services/fetcher/server.js";
import {
  TEST_ADMIN_KEY,
  TEST_ENCRYPTION_KEY,
  testConfig,
  useTestDatabase,
  useTestStreams,
  type TestDatabase,
  type TestStreams,
} from "./index.js";

export const DEMO_CLIENT = "demo-client.apps.googleusercontent.com";

/** Small, fast settings for tests: short ack wait, quick retries, frequent polls. */
export const FAST_FETCHER_ENV: Record<string, string> = {
  FETCH_ACK_WAIT_MS: "2000",
  FETCH_MAX_DELIVER: "6",
  FETCH_CONCURRENCY: "4",
  FETCH_RETRY_BASE_MS: "50",
  FETCH_RETRY_MAX_MS: "400",
  FETCH_POLL_MS: "100",
  GOOGLE_QPM: "100000",
  GOOGLE_TIMEOUT_MS: "5000",
  // jobs here are the tests' own; the scheduler's tests turn it on
  SYNC_ENABLED: "false",
};

export interface FetcherFixtureOptions {
  emulator?: EmulatorOptions;
  /** Also run a TokenService (in this process, on its own port) and point the fetcher at it. */
  tokenService?: boolean;
  env?: Record<string, string>;
  /** Start the fetcher in this process (default true). */
  inProcess?: boolean;
  deps?: Partial<FetcherServiceOptions>;
  logger?: Logger;
  /** A NATS of the test's own (read when the fixture starts), instead of the shared one. */
  natsUrl?: () => string;
}

export interface FetcherFixture {
  readonly db: TestDatabase;
  readonly streams: TestStreams;
  readonly emulator: GoogleEmulator;
  readonly config: Readonly<Config>;
  /** The in-process fetcher (undefined with inProcess: false). */
  readonly fetcher: FetcherServiceInstance | undefined;
  /** The in-process fetcher's port. */
  readonly port: number;
  /** A ReviewFetcher client over gRPC (h2c) presenting the admin key (or `key`). */
  client(key?: string): Client<typeof ReviewFetcher>;
  /** Env for a fetcher child process aimed at this fixture's database, streams and emulator. */
  childEnv(extra?: Record<string, string>): Record<string, string>;
  /** A fresh Google access token for the demo client, issued by the emulator. */
  issueToken(clientId?: string): string;
  /** The TokenService client (admin key), with `tokenService: true`. */
  readonly tokens: Client<typeof TokenService>;
  /** A tenant with an operator, a reader and a service key (needs `tokenService: true`). */
  createTenant(name: string): Promise<TestTenant>;
  /** A client of `tenant` registered for a Google OAuth client and connected through consent. */
  connectClient(tenant: TestTenant, googleClient?: { id: string; secret: string }): Promise<string>;
}

export interface TestTenant {
  id: string;
  operator: string;
  reader: string;
  service: string;
}

/**
 * A migrated database, a JetStream namespace, a Google emulator and (by default) a running
 * fetcher for the surrounding describe; everything is torn down afterwards.
 */
export function useFetcherFixture(options: FetcherFixtureOptions = {}): FetcherFixture {
  const env = { ...FAST_FETCHER_ENV, ...options.env };
  const state: {
    emulator?: GoogleEmulator;
    config?: Readonly<Config>;
    fetcher?: FetcherServiceInstance;
    port?: number;
    token?: TokenServiceInstance;
    tokenDataSource?: DataSource;
    tokens?: Client<typeof TokenService>;
  } = {};
  // registered before the database and streams fixtures so it runs first: stop the services,
  // then drop what they were using
  after(async function () {
    this.timeout(30_000);
    await state.fetcher?.stop();
    await state.token?.stop();
    await state.tokenDataSource?.destroy().catch(() => undefined);
    await state.emulator?.close();
  });
  const db = useTestDatabase();
  const streams = useTestStreams({
    ackWaitMs: Number(env.FETCH_ACK_WAIT_MS),
    maxDeliver: Number(env.FETCH_MAX_DELIVER),
    url: options.natsUrl,
  });

  const configEnv = () => ({
    ...env,
    DATABASE_URL: db.url,
    NATS_NAMESPACE: streams.namespace,
    ...(options.natsUrl ? { NATS_URL: options.natsUrl() } : {}),
    ADMIN_API_KEY: TEST_ADMIN_KEY,
    GOOGLE_OAUTH_URL: state.emulator!.url,
    GOOGLE_API_URL: state.emulator!.url,
  });

  before(async function () {
    this.timeout(30_000);
    state.emulator = await startGoogleEmulator({ port: 0, seed: "tiny", autoApprove: true, ...options.emulator });
    const tokenEnv: Record<string, string> = {};
    if (options.tokenService) {
      const config = testConfig(configEnv());
      state.tokenDataSource = await openDatabase({ databaseUrl: db.url, entities: tokenEntities, poolSize: 5 });
      state.token = createTokenService({
        config,
        dataSource: state.tokenDataSource,
        nats: streams.nats,
        logger: silentLogger,
        metrics: createMetricsRegistry("token", { processMetrics: false }),
      });
      const tokenPort = await state.token.start(0);
      tokenEnv.TOKEN_SERVICE_URL = `http://127.0.0.1:${tokenPort}`;
      state.tokens = authed(TokenService, tokenEnv.TOKEN_SERVICE_URL, TEST_ADMIN_KEY);
    }
    Object.assign(env, tokenEnv);
    state.config = testConfig(configEnv());
    if (options.inProcess !== false) {
      state.fetcher = createFetcherService({
        config: state.config,
        dataSource: db.dataSource,
        nats: streams.nats,
        logger: options.logger ?? silentLogger,
        watchIntervalMs: 100,
        metrics: createMetricsRegistry("fetcher", { processMetrics: false }),
        ...options.deps,
      });
      state.port = await state.fetcher.start(0);
    }
  });

  const need = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`useFetcherFixture: ${what} is only available inside tests`);
    return value;
  };

  return {
    db,
    streams,
    get emulator() {
      return need(state.emulator, "emulator");
    },
    get config() {
      return need(state.config, "config");
    },
    get fetcher() {
      return state.fetcher;
    },
    get port() {
      return need(state.port, "port");
    },
    client(key = TEST_ADMIN_KEY) {
      return fetcherClient(`http://127.0.0.1:${need(state.port, "port")}`, key);
    },
    childEnv(extra = {}) {
      return { ...configEnv(), TOKEN_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY, LOG_LEVEL: "warn", ...extra };
    },
    issueToken(clientId = DEMO_CLIENT) {
      return need(state.emulator, "emulator").controls.issueTokens({ client_id: clientId }).access_token;
    },
    get tokens() {
      return need(state.tokens, "tokens (tokenService: true)");
    },
    async createTenant(name) {
      const tokens = need(state.tokens, "tokens (tokenService: true)");
      const { tenant } = await tokens.createTenant({ name });
      const key = async (role: Role) => (await tokens.createApiKey({ tenantId: tenant!.id, role, name: `${name}-${Role[role]}` })).key;
      return { id: tenant!.id, operator: await key(Role.OPERATOR), reader: await key(Role.READER), service: await key(Role.SERVICE) };
    },
    async connectClient(tenant, googleClient = { id: DEMO_CLIENT, secret: "demo-secret" }) {
      const tokens = authed(TokenService, need(state.config, "config").token.url, tenant.operator);
      const { client } = await tokens.createClient({
        name: `client-${googleClient.id}`,
        googleClientId: googleClient.id,
        clientSecret: googleClient.secret,
        redirectUri: "http://127.0.0.1:9/auth/callback",
      });
      const started = await tokens.startOAuth({ clientId: client!.id });
      // the emulator approves at once and redirects to the redirect URI with a code, as a browser would see
      const res = await fetch(started.authorizationUrl, { redirect: "manual" });
      const back = new URL(res.headers.get("location") ?? "http://invalid/");
      await tokens.completeOAuth({ code: back.searchParams.get("code") ?? "", state: back.searchParams.get("state") ?? "" });
      return client!.id;
    },
  };
}

function authed<T extends DescService>(service: T, baseUrl: string, key: string): Client<T> {
  const auth: Interceptor = (next) => (req) => {
    if (!req.header.has("authorization")) req.header.set("authorization", `Bearer ${key}`);
    return next(req);
  };
  return createClient(service, createGrpcTransport({ baseUrl, interceptors: [auth] }));
}

export function fetcherClient(baseUrl: string, key: string): Client<typeof ReviewFetcher> {
  return authed(ReviewFetcher, baseUrl, key);
}

const TERMINAL = new Set([JobStatus.SUCCEEDED, JobStatus.PARTIAL, JobStatus.FAILED, JobStatus.CANCELLED]);

/** Follows WatchFetchJob until the job ends and returns its last state. */
export async function waitForJob(client: Client<typeof ReviewFetcher>, jobId: string): Promise<FetchJob> {
  let last: FetchJob | undefined;
  for await (const { job } of client.watchFetchJob({ jobId })) {
    last = job;
    if (job && TERMINAL.has(job.status)) return job;
  }
  throw new Error(`watch of job ${jobId} ended while the job was ${last ? JobStatus[last.status] : "unknown"}`);
}

/** Pauses a stage and waits until the workers' last pull request is gone (at most its 1 s expiry). */
export async function pauseAndSettle(api: Client<typeof ReviewFetcher>, nats: Nats, stage: StageName): Promise<void> {
  await api.pauseStage({ stage });
  while ((await nats.jsm.consumers.info(nats.names.fetch.stream, nats.names.fetch.consumer(stage))).num_waiting > 0) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Every ReviewEvent on the namespace's REVIEWS stream (an ordered consumer from the start). */
export async function readReviewEvents(nats: Nats): Promise<ReviewEvent[]> {
  const info = await nats.jsm.streams.info(nats.names.reviews.stream);
  const total = info.state.messages;
  if (total === 0) return [];
  const consumer = await nats.js.consumers.get(nats.names.reviews.stream, { deliver_policy: DeliverPolicy.All });
  const events: ReviewEvent[] = [];
  const messages = await consumer.consume();
  for await (const msg of messages) {
    events.push(decodeMessage(ReviewEventSchema, msg.data, msg.headers));
    if (events.length >= total) break;
  }
  await messages.close();
  return events;
}
