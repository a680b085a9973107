import { createHash } from "node:crypto";
import { parseEncryptionKeys, type EncryptionKeyring } from "../crypto/keyring.js";

/** Thrown when an environment variable is missing or malformed. Names the variable, never its value. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    reason: string,
  ) {
    super(`${variable}: ${reason}`);
    this.name = "ConfigError";
  }
}

export type LogLevel = "debug" | "info" | "warn" | "error";

/** Where the product reaches Google. Defaults are Google's real hosts; `npm start` points both at the emulator. */
export interface GoogleEndpoints {
  authUrl: string;
  tokenUrl: string;
  revokeUrl: string;
  tokenInfoUrl: string;
  accountManagementUrl: string;
  businessInformationUrl: string;
  myBusinessUrl: string;
  /** My Business Notifications API v1 (the account's notificationSetting). */
  notificationsUrl: string;
}

/**
 * Google's review notifications (Cloud Pub/Sub). Both receivers are optional: without a topic
 * nothing is reconciled; without an audience and a service account the push route is off.
 */
export interface NotificationsConfig {
  /** GOOGLE_PUBSUB_TOPIC, `projects/{p}/topics/{t}`: the topic every connected account's setting should name; unset = the reconciler is off. */
  topic: string | undefined;
  /** PUBSUB_SUBSCRIPTION, `projects/{p}/subscriptions/{s}`: the pull receiver's subscription; unset = no pull receiver. */
  subscription: string | undefined;
  /** PUBSUB_EMULATOR_HOST (host:port): @google-cloud/pubsub talks to Google's Pub/Sub emulator there. */
  emulatorHost: string | undefined;
  /** PUBSUB_PUSH_AUDIENCE: the `aud` a push token must carry; with PUBSUB_PUSH_SERVICE_ACCOUNT it turns the push route on. */
  pushAudience: string | undefined;
  /** PUBSUB_PUSH_SERVICE_ACCOUNT: the `email` a push token must carry (the push subscription's service account). */
  pushServiceAccount: string | undefined;
  /** GOOGLE_JWKS_URL: the keys push tokens are verified against (Google's by default). */
  jwksUrl: string;
}

/**
 * The whole configuration, one section per service or concern. A service takes only the
 * sections it reads (its `XServiceConfig`, a Pick of these); its main.ts hands them over.
 */
export interface Config {
  postgres: Readonly<PostgresConfig>;
  nats: Readonly<NatsConfig>;
  google: Readonly<GoogleConfig>;
  notifications: Readonly<NotificationsConfig>;
  secrets: Readonly<SecretsConfig>;
  /** What every port (services and gateway) shares: where it binds, how long it waits for a client. */
  http: Readonly<HttpConfig>;
  log: Readonly<LogConfig>;
  token: Readonly<TokenConfig>;
  fetcher: Readonly<FetcherConfig>;
  gateway: Readonly<GatewayConfig>;
  emulator: Readonly<EmulatorConfig>;
}

export interface PostgresConfig {
  /** DATABASE_URL. */
  url: string;
}

export interface NatsConfig {
  /** NATS_URL as given: one server, or several comma-separated (the servers of a cluster). */
  url: string;
  /** NATS_URL's servers, one URL each: a client tries them in turn and learns the rest of the cluster. */
  servers: readonly string[];
  /** Replicas of every stream (NATS_REPLICAS, 1): 3 on a three-node JetStream cluster. */
  replicas: number;
  /**
   * Prefix of the public streams' names and subjects (REVIEWS, TOKEN_EVENTS: what subscribers
   * read, named in DESIGN.md): NATS_NAMESPACE, else none. Deployments sharing a NATS still never
   * mix events: subjects carry the client's id, and message ids are scoped by it.
   */
  namespace: string;
  /**
   * Prefix of the work streams (FETCH, DEAD_LETTERS), so deployments sharing a NATS never take
   * each other's tasks: NATS_NAMESPACE, else one derived from DATABASE_URL's host, port and
   * database (deploymentNamespace); NATS_NAMESPACE set but empty keeps the unprefixed names.
   */
  workNamespace: string;
}

export interface GoogleConfig {
  /** GOOGLE_OAUTH_URL and GOOGLE_API_URL, spelt out per endpoint. */
  endpoints: Readonly<GoogleEndpoints>;
  /** Timeout of one Google API request (GOOGLE_TIMEOUT_MS), from the fetcher or the TokenService; a timeout is retried. */
  timeoutMs: number;
  /** Requests per minute per Google project (GOOGLE_QPM), shared by every fetcher. */
  qpm: number;
  /** Shares of each Google project's GOOGLE_QPM per quota lane (GOOGLE_QUOTA_LANES); an idle lane lends its share. */
  quotaLanes: Readonly<Record<QuotaLane, number>>;
}

export interface SecretsConfig {
  /** Undefined when TOKEN_ENCRYPTION_KEY is unset; services that store secrets call `requireKeyring`. */
  encryptionKeys: EncryptionKeyring | undefined;
  /** ADMIN_API_KEY: the bootstrap admin key. */
  adminApiKey: string | undefined;
  /** The key a service presents when it calls another service (SERVICE_API_KEY, else ADMIN_API_KEY). */
  serviceApiKey: string | undefined;
}

export interface HttpConfig {
  /** HOST: the address every port binds. */
  host: string;
  /** How long every port lets a connection take over a request, or sit idle. */
  timeouts: Readonly<HttpTimeouts>;
}

export interface LogConfig {
  /** LOG_LEVEL. */
  level: LogLevel;
}

export interface TokenConfig {
  /** TOKEN_PORT. */
  port: number;
  /** Where the other services reach the TokenService over gRPC (h2c): TOKEN_SERVICE_URL. */
  url: string;
  refreshWindowSeconds: number;
  /** How often the TokenService's sweeper refreshes tokens about to enter the window; 0 = off. */
  sweepIntervalSeconds: number;
}

export interface FetcherConfig {
  /** FETCHER_PORT. */
  port: number;
  /** Where the gateway reaches the ReviewFetcher over gRPC (h2c): FETCHER_SERVICE_URL. */
  url: string;
  jobStallTimeoutSeconds: number;
  /** REVIEW_RETENTION_DAYS: the fetcher's purge, and the max age of the REVIEWS and DEAD_LETTERS streams. */
  reviewRetentionDays: number;
  maxActiveJobs: number;
  /**
   * Admission bound per tenant (FETCH_MAX_ACTIVE_JOBS_PER_TENANT; default a quarter of
   * FETCH_MAX_ACTIVE_JOBS, at least 1, never above it): one tenant cannot fill the global bound.
   */
  maxActiveJobsPerTenant: number;
  /** How long a task may be held before JetStream redelivers it (FETCH_ACK_WAIT_MS). */
  ackWaitMs: number;
  /** Deliveries of a FETCH task before it is dead-lettered (FETCH_MAX_DELIVER). */
  maxDeliver: number;
  /**
   * Tasks each stage runs at once per fetcher instance (FETCH_CONCURRENCY): "auto" (the default)
   * follows Google's latency and the quota (in-flight ≈ quota rate × latency, Little's law), up to
   * FETCH_CONCURRENCY_MAX; a number fixes it. Tasks waiting for their project's quota are not counted.
   */
  concurrency: number | "auto";
  /** The most tasks each stage runs at once per fetcher under FETCH_CONCURRENCY=auto (FETCH_CONCURRENCY_MAX). */
  concurrencyMax: number;
  /**
   * Connections of a fetcher's main Postgres pool (FETCH_DATABASE_CONNECTIONS), whatever the
   * concurrency: a page holds one only for its statements, and past what the database's cores
   * run at once more connections only queue inside Postgres, each a backend to start and warm.
   */
  databaseConnections: number;
  /** First retry delay of a transient failure; doubles per attempt up to FETCH_RETRY_MAX_MS, with jitter. */
  retryBaseMs: number;
  retryMaxMs: number;
  /** How often workers re-read pause switches and the maintenance loop runs (FETCH_POLL_MS). */
  pollMs: number;
  /** The scheduler's defaults for every client (SYNC_*); a client's own policy overrides them. */
  sync: Readonly<SyncDefaults>;
}

export interface GatewayConfig {
  /** GATEWAY_PORT. */
  port: number;
  /** Public base URL of the gateway (PUBLIC_URL): login links and redirect URIs are built from it. */
  publicUrl: string;
  /** Limits, requests per minute: per API key, per tenant (all its keys), per client IP for unauthenticated calls; 0 = no limit. */
  ratePerKey: number;
  ratePerTenant: number;
  ratePerIp: number;
  /** Where the limiters count: `memory` (per instance) or `postgres` (shared by all instances). */
  rateStore: "memory" | "postgres";
  /** Origins allowed to call the gateway from a browser (CORS_ORIGINS, comma-separated; `*` = any, without credentials). */
  corsOrigins: readonly string[];
  /** Largest request body accepted (GATEWAY_BODY_LIMIT_BYTES); larger is 413. */
  bodyLimitBytes: number;
  /** Deadline of one upstream call (GATEWAY_UPSTREAM_TIMEOUT_MS); past it, 504. */
  upstreamTimeoutMs: number;
  /** Interval of keep-alive comments on Server-Sent Events streams (GATEWAY_SSE_KEEPALIVE_MS). */
  sseKeepAliveMs: number;
  /** How long a console sign-in lasts (CONSOLE_SESSION_TTL_MINUTES, default 60): absolute, not sliding. */
  consoleSessionTtlMs: number;
}

export interface EmulatorConfig {
  /** EMULATOR_PORT: where `npm start` runs the Google emulator. */
  port: number;
}

/**
 * Where every port stops a slow or silent client. Applied where sockets are accepted
 * (lib/rpc/server.ts), over HTTP/1.1 and h2c alike.
 */
export interface HttpTimeouts {
  /** A request's headers must have arrived this long after the connection (or the request) began (HTTP_HEADERS_TIMEOUT_MS). */
  headersTimeoutMs: number;
  /** A whole request, headers and body, must have arrived this long after it began (HTTP_REQUEST_TIMEOUT_MS). */
  requestTimeoutMs: number;
  /** A connection with no request in flight is closed after this long (HTTP_IDLE_TIMEOUT_MS). */
  idleTimeoutMs: number;
}

/** The defaults of HTTP_HEADERS_TIMEOUT_MS, HTTP_REQUEST_TIMEOUT_MS and HTTP_IDLE_TIMEOUT_MS (65 s: longer than typical proxies keep a connection, so they close first). */
export const HTTP_TIMEOUT_DEFAULTS: Readonly<HttpTimeouts> = Object.freeze({
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  idleTimeoutMs: 65_000,
});

type Env = Record<string, string | undefined>;

const GOOGLE_DEFAULTS: GoogleEndpoints = {
  authUrl: "https://accounts.google.com/o/oauth2/v2/auth",
  tokenUrl: "https://oauth2.googleapis.com/token",
  revokeUrl: "https://oauth2.googleapis.com/revoke",
  tokenInfoUrl: "https://oauth2.googleapis.com/tokeninfo",
  accountManagementUrl: "https://mybusinessaccountmanagement.googleapis.com/",
  businessInformationUrl: "https://mybusinessbusinessinformation.googleapis.com/",
  myBusinessUrl: "https://mybusiness.googleapis.com/",
  notificationsUrl: "https://mybusinessnotifications.googleapis.com/",
};

/** Parses the environment once into a frozen, typed object in sections; a bad value stops start-up. */
export function loadConfig(env: Env = process.env): Readonly<Config> {
  const read = (name: string) => {
    const value = env[name]?.trim();
    return value === undefined || value === "" ? undefined : value;
  };
  const tokenPort = port(read, "TOKEN_PORT", 8002);
  const fetcherPort = port(read, "FETCHER_PORT", 8001);
  const gatewayPort = port(read, "GATEWAY_PORT", 8080);
  const maxActiveJobs = int(read, "FETCH_MAX_ACTIVE_JOBS", 100, 1, 100_000);
  const keyring = encryptionKeys(read);
  const databaseUrl = url(read, "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/reviewflow", ["postgres:", "postgresql:"]);
  const natsServers = urlList(read, "NATS_URL", "nats://127.0.0.1:4222", ["nats:", "tls:"]);
  const config: Config = {
    postgres: Object.freeze({ url: databaseUrl }),
    nats: Object.freeze({
      url: natsServers.join(","),
      servers: natsServers,
      replicas: int(read, "NATS_REPLICAS", 1, 1, 5),
      namespace: pattern(read, "NATS_NAMESPACE", "", /^[A-Za-z0-9_-]*$/, "letters, digits, _ and - only"),
      workNamespace:
        env.NATS_NAMESPACE === undefined
          ? deploymentNamespace(databaseUrl)
          : pattern(read, "NATS_NAMESPACE", "", /^[A-Za-z0-9_-]*$/, "letters, digits, _ and - only"),
    }),
    google: Object.freeze({
      endpoints: googleEndpoints(read),
      timeoutMs: int(read, "GOOGLE_TIMEOUT_MS", 30_000, 100, 600_000),
      qpm: int(read, "GOOGLE_QPM", 300, 1, 1_000_000),
      quotaLanes: quotaLanes(read),
    }),
    notifications: notificationsConfig(read),
    secrets: Object.freeze({
      encryptionKeys: keyring,
      adminApiKey: secret(read, "ADMIN_API_KEY", 16),
      serviceApiKey: secret(read, "SERVICE_API_KEY", 16) ?? secret(read, "ADMIN_API_KEY", 16),
    }),
    http: Object.freeze({ host: read("HOST") ?? "127.0.0.1", timeouts: httpTimeouts(read) }),
    log: Object.freeze({ level: oneOf(read, "LOG_LEVEL", "info", ["debug", "info", "warn", "error"] as const) }),
    token: Object.freeze({
      port: tokenPort,
      url: url(read, "TOKEN_SERVICE_URL", `http://127.0.0.1:${tokenPort}`, ["http:", "https:"]),
      refreshWindowSeconds: int(read, "TOKEN_REFRESH_WINDOW_SECONDS", 300, 0, 86_400),
      sweepIntervalSeconds: int(read, "TOKEN_SWEEP_INTERVAL_SECONDS", 30, 0, 86_400),
    }),
    fetcher: Object.freeze({
      port: fetcherPort,
      url: url(read, "FETCHER_SERVICE_URL", `http://127.0.0.1:${fetcherPort}`, ["http:", "https:"]),
      jobStallTimeoutSeconds: int(read, "JOB_STALL_TIMEOUT_SECONDS", 600, 1, 86_400),
      reviewRetentionDays: int(read, "REVIEW_RETENTION_DAYS", 30, 1, 3650),
      maxActiveJobs,
      maxActiveJobsPerTenant: perTenantBound(read, maxActiveJobs),
      ackWaitMs: int(read, "FETCH_ACK_WAIT_MS", 30_000, 1_000, 3_600_000),
      maxDeliver: int(read, "FETCH_MAX_DELIVER", 10, 2, 1_000),
      concurrency: fetchConcurrency(read),
      concurrencyMax: int(read, "FETCH_CONCURRENCY_MAX", 64, 1, 256),
      databaseConnections: int(read, "FETCH_DATABASE_CONNECTIONS", 14, 2, 500),
      retryBaseMs: int(read, "FETCH_RETRY_BASE_MS", 1_000, 1, 600_000),
      retryMaxMs: int(read, "FETCH_RETRY_MAX_MS", 60_000, 1, 3_600_000),
      pollMs: int(read, "FETCH_POLL_MS", 1_000, 20, 60_000),
      sync: syncDefaults(read),
    }),
    gateway: Object.freeze({
      port: gatewayPort,
      publicUrl: url(read, "PUBLIC_URL", `http://localhost:${gatewayPort}`, ["http:", "https:"]).replace(/\/+$/, ""),
      ratePerKey: int(read, "GATEWAY_RATE_PER_KEY", 600, 0, 10_000_000),
      ratePerTenant: int(read, "GATEWAY_RATE_PER_TENANT", 1_200, 0, 10_000_000),
      ratePerIp: int(read, "GATEWAY_RATE_PER_IP", 120, 0, 10_000_000),
      rateStore: oneOf(read, "GATEWAY_RATE_STORE", "memory", ["memory", "postgres"] as const),
      corsOrigins: origins(read, "CORS_ORIGINS"),
      bodyLimitBytes: int(read, "GATEWAY_BODY_LIMIT_BYTES", 1_048_576, 1_024, 64 * 1_048_576),
      upstreamTimeoutMs: int(read, "GATEWAY_UPSTREAM_TIMEOUT_MS", 30_000, 10, 600_000),
      sseKeepAliveMs: int(read, "GATEWAY_SSE_KEEPALIVE_MS", 15_000, 10, 600_000),
      consoleSessionTtlMs: int(read, "CONSOLE_SESSION_TTL_MINUTES", 60, 1, 24 * 60) * 60_000,
    }),
    emulator: Object.freeze({ port: port(read, "EMULATOR_PORT", 8090) }),
  };
  return Object.freeze(config);
}

/** TOKEN_ENCRYPTION_KEY as a keyring, or undefined when unset. */
function encryptionKeys(read: Read): EncryptionKeyring | undefined {
  const raw = read("TOKEN_ENCRYPTION_KEY");
  if (raw === undefined) return undefined;
  try {
    return parseEncryptionKeys(raw);
  } catch (err) {
    // the parser's message describes the shape problem only, never the key bytes
    throw new ConfigError("TOKEN_ENCRYPTION_KEY", (err as Error).message);
  }
}

/** For services that encrypt or decrypt: the keyring, or a ConfigError naming the variable. */
export function requireKeyring(secrets: Pick<SecretsConfig, "encryptionKeys">): EncryptionKeyring {
  if (!secrets.encryptionKeys) throw new ConfigError("TOKEN_ENCRYPTION_KEY", "is required (base64 of 32 bytes)");
  return secrets.encryptionKeys;
}
type Read = (name: string) => string | undefined;

export interface SyncDefaults {
  /** SYNC_ENABLED (true): whether the scheduler runs at all. */
  enabled: boolean;
  /** SYNC_INCREMENTAL_EVERY_SECONDS (900): mean interval between incremental passes over a location. */
  incrementalEverySeconds: number;
  /** SYNC_FULL_EVERY_SECONDS (86400): interval between a client's full passes (reconciliation). */
  fullEverySeconds: number;
  /** SYNC_ADAPTIVE (true): each location's interval follows its rate of changes. */
  adaptive: boolean;
  /** SYNC_MIN_INCREMENTAL_SECONDS (an eighth of the mean, at least 60) and SYNC_MAX_INCREMENTAL_SECONDS (8 × the mean). */
  minIncrementalSeconds: number;
  maxIncrementalSeconds: number;
  /** SYNC_TICK_MS (1000): how often the planning instance looks for due work. */
  tickMs: number;
}

function syncDefaults(read: Read): SyncDefaults {
  const incrementalEverySeconds = int(read, "SYNC_INCREMENTAL_EVERY_SECONDS", 900, 1, 30 * 86_400);
  const minIncrementalSeconds = int(
    read,
    "SYNC_MIN_INCREMENTAL_SECONDS",
    Math.max(Math.min(60, incrementalEverySeconds), Math.floor(incrementalEverySeconds / 8)),
    1,
    30 * 86_400,
  );
  const maxIncrementalSeconds = int(read, "SYNC_MAX_INCREMENTAL_SECONDS", incrementalEverySeconds * 8, 1, 90 * 86_400);
  if (minIncrementalSeconds > maxIncrementalSeconds)
    throw new ConfigError("SYNC_MIN_INCREMENTAL_SECONDS", "must not exceed SYNC_MAX_INCREMENTAL_SECONDS");
  return {
    enabled: bool(read, "SYNC_ENABLED", true),
    incrementalEverySeconds,
    fullEverySeconds: int(read, "SYNC_FULL_EVERY_SECONDS", 86_400, 1, 90 * 86_400),
    adaptive: bool(read, "SYNC_ADAPTIVE", true),
    minIncrementalSeconds,
    maxIncrementalSeconds,
    tickMs: int(read, "SYNC_TICK_MS", 1_000, 20, 60_000),
  };
}

/** The lanes of a Google project's quota, by what the work is for. */
export type QuotaLane = "on_demand" | "schedule" | "reconciliation" | "notification";
export const QUOTA_LANES: readonly QuotaLane[] = ["on_demand", "schedule", "reconciliation", "notification"];

/** GOOGLE_QUOTA_LANES, e.g. `on_demand=40,schedule=30,reconciliation=20,notification=10`: relative weights, normalised to 1. */
function quotaLanes(read: Read): Readonly<Record<QuotaLane, number>> {
  const raw = read("GOOGLE_QUOTA_LANES") ?? "on_demand=40,schedule=30,reconciliation=20,notification=10";
  const weights: Record<QuotaLane, number> = { on_demand: 0, schedule: 0, reconciliation: 0, notification: 0 };
  for (const part of raw
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean)) {
    const match = /^([a-z_]+)=(\d+(?:\.\d+)?)$/.exec(part);
    if (!match || !(QUOTA_LANES as readonly string[]).includes(match[1]!)) {
      throw new ConfigError("GOOGLE_QUOTA_LANES", `expects lane=weight pairs for ${QUOTA_LANES.join(", ")}, e.g. on_demand=40,schedule=30`);
    }
    weights[match[1] as QuotaLane] = Number(match[2]);
  }
  const total = QUOTA_LANES.reduce((sum, lane) => sum + weights[lane], 0);
  if (total <= 0) throw new ConfigError("GOOGLE_QUOTA_LANES", "needs a positive weight for at least one lane");
  return Object.freeze(Object.fromEntries(QUOTA_LANES.map((lane) => [lane, weights[lane] / total])) as Record<QuotaLane, number>);
}

function bool(read: Read, name: string, fallback: boolean): boolean {
  const raw = read(name);
  if (raw === undefined || raw === "") return fallback;
  if (/^(true|1|yes|on)$/i.test(raw)) return true;
  if (/^(false|0|no|off)$/i.test(raw)) return false;
  throw new ConfigError(name, "must be true or false");
}

function int(read: Read, name: string, fallback: number, min: number, max: number): number {
  const raw = read(name);
  if (raw === undefined) return fallback;
  if (!/^-?\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

/** FETCH_CONCURRENCY: "auto" (unset too) or a fixed number of tasks. */
function fetchConcurrency(read: Read): number | "auto" {
  const raw = read("FETCH_CONCURRENCY");
  if (raw === undefined || raw.toLowerCase() === "auto") return "auto";
  if (!/^\d+$/.test(raw)) throw new ConfigError("FETCH_CONCURRENCY", `must be "auto" or a whole number, got "${raw}"`);
  return int(read, "FETCH_CONCURRENCY", 0, 1, 256);
}

/** FETCH_MAX_ACTIVE_JOBS_PER_TENANT: at most the global bound, which it exists to share. */
function perTenantBound(read: Read, maxActiveJobs: number): number {
  const name = "FETCH_MAX_ACTIVE_JOBS_PER_TENANT";
  const value = int(read, name, Math.max(1, Math.floor(maxActiveJobs / 4)), 1, 100_000);
  if (value > maxActiveJobs) throw new ConfigError(name, `must not exceed FETCH_MAX_ACTIVE_JOBS (${maxActiveJobs}), got ${value}`);
  return value;
}

function port(read: Read, name: string, fallback: number): number {
  return int(read, name, fallback, 0, 65_535);
}

function url(read: Read, name: string, fallback: string, protocols: string[]): string {
  const raw = read(name) ?? fallback;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    // a URL can carry a password: describe the problem, not the value
    throw new ConfigError(name, "is not a valid URL");
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(name, `must use ${protocols.join(" or ")}, got ${parsed.protocol}`);
  }
  return raw;
}

/** A comma-separated list of URLs (NATS_URL may name every server of a cluster), each checked like `url`. */
function urlList(read: Read, name: string, fallback: string, protocols: string[]): readonly string[] {
  const parts = (read(name) ?? fallback)
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean);
  if (parts.length === 0) throw new ConfigError(name, "lists no server");
  return Object.freeze(parts.map((part) => url(() => part, name, part, protocols)));
}

/**
 * The NATS namespace of a deployment that sets no NATS_NAMESPACE: `rf_` and 8 hex digits of a
 * hash of its database's host, port and name (loopback spellings alike), so two deployments on
 * one NATS, each with its own database, never share a stream, and every service (and
 * `npm run reviews:tail`) of one deployment finds the same streams without being told.
 */
export function deploymentNamespace(databaseUrl: string): string {
  const parsed = new URL(databaseUrl);
  const rawHost = decodeURIComponent(parsed.hostname || parsed.searchParams.get("host") || "localhost").toLowerCase();
  const host = ["localhost", "127.0.0.1", "[::1]", "::1"].includes(rawHost) ? "localhost" : rawHost;
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, "")) || decodeURIComponent(parsed.username) || "postgres";
  return `rf_${createHash("sha256")
    .update(`${host}:${parsed.port || "5432"}/${database}`)
    .digest("hex")
    .slice(0, 8)}`;
}

function oneOf<T extends string>(read: Read, name: string, fallback: T, allowed: readonly T[]): T {
  const raw = read(name)?.toLowerCase() ?? fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(name, `must be one of ${allowed.join(", ")}, got "${raw}"`);
  }
  return raw as T;
}

function pattern(read: Read, name: string, fallback: string, re: RegExp, hint: string): string {
  const raw = read(name) ?? fallback;
  if (!re.test(raw)) throw new ConfigError(name, `must contain ${hint}`);
  return raw;
}

function secret(read: Read, name: string, minLength: number): string | undefined {
  const raw = read(name);
  if (raw !== undefined && raw.length < minLength) {
    throw new ConfigError(name, `must be at least ${minLength} characters long`);
  }
  return raw;
}

/** A comma-separated list of browser origins (`scheme://host[:port]`, no path) or `*`. */
function origins(read: Read, name: string): readonly string[] {
  const raw = read(name);
  if (raw === undefined) return Object.freeze([]);
  const list = raw
    .split(",")
    .map((o) => o.trim())
    .filter(Boolean);
  for (const origin of list) {
    if (origin === "*") continue;
    let parsed: URL;
    try {
      parsed = new URL(origin);
    } catch {
      throw new ConfigError(name, `"${origin}" is not an origin like https://app.example.com`);
    }
    if (!["http:", "https:"].includes(parsed.protocol) || parsed.origin !== origin.replace(/\/$/, "")) {
      throw new ConfigError(name, `"${origin}" is not an origin like https://app.example.com (scheme, host and port only)`);
    }
  }
  return Object.freeze(list.map((o) => (o === "*" ? o : new URL(o).origin)));
}

function googleEndpoints(read: Read): GoogleEndpoints {
  const oauth = read("GOOGLE_OAUTH_URL");
  const api = read("GOOGLE_API_URL");
  const endpoints = { ...GOOGLE_DEFAULTS };
  if (oauth !== undefined) {
    const base = url(read, "GOOGLE_OAUTH_URL", oauth, ["http:", "https:"]).replace(/\/+$/, "");
    endpoints.authUrl = `${base}/o/oauth2/v2/auth`;
    endpoints.tokenUrl = `${base}/token`;
    endpoints.revokeUrl = `${base}/revoke`;
    endpoints.tokenInfoUrl = `${base}/tokeninfo`;
  }
  if (api !== undefined) {
    // googleapis drops any path prefix of rootUrl, so one origin serves all three APIs
    const base = `${url(read, "GOOGLE_API_URL", api, ["http:", "https:"]).replace(/\/+$/, "")}/`;
    endpoints.accountManagementUrl = base;
    endpoints.businessInformationUrl = base;
    endpoints.myBusinessUrl = base;
    endpoints.notificationsUrl = base;
  }
  return endpoints;
}

function notificationsConfig(read: Read): Readonly<NotificationsConfig> {
  const pushAudience = read("PUBSUB_PUSH_AUDIENCE");
  const pushServiceAccount = read("PUBSUB_PUSH_SERVICE_ACCOUNT");
  // one without the other would leave the route open to any Google-signed token of that audience
  // (or any audience): refuse the half-configured push route
  if (pushAudience !== undefined && pushServiceAccount === undefined)
    throw new ConfigError("PUBSUB_PUSH_SERVICE_ACCOUNT", "is required when PUBSUB_PUSH_AUDIENCE is set (the push token's pinned email)");
  if (pushServiceAccount !== undefined && pushAudience === undefined)
    throw new ConfigError("PUBSUB_PUSH_AUDIENCE", "is required when PUBSUB_PUSH_SERVICE_ACCOUNT is set (the push token's audience)");
  if (pushServiceAccount !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(pushServiceAccount))
    throw new ConfigError("PUBSUB_PUSH_SERVICE_ACCOUNT", "must be a service account email");
  const emulatorHost = read("PUBSUB_EMULATOR_HOST");
  if (emulatorHost !== undefined && !/^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(emulatorHost))
    throw new ConfigError("PUBSUB_EMULATOR_HOST", "must be host:port, e.g. 127.0.0.1:8085");
  return Object.freeze({
    topic: optionalPattern(
      read,
      "GOOGLE_PUBSUB_TOPIC",
      /^projects\/[a-z][a-z0-9-]{4,28}[a-z0-9]\/topics\/[A-Za-z][A-Za-z0-9._~+%-]{2,254}$/,
      "projects/{project}/topics/{topic}",
    ),
    subscription: optionalPattern(
      read,
      "PUBSUB_SUBSCRIPTION",
      /^projects\/[a-z][a-z0-9-]{4,28}[a-z0-9]\/subscriptions\/[A-Za-z][A-Za-z0-9._~+%-]{2,254}$/,
      "projects/{project}/subscriptions/{subscription}",
    ),
    emulatorHost,
    pushAudience,
    pushServiceAccount,
    jwksUrl: url(read, "GOOGLE_JWKS_URL", "https://www.googleapis.com/oauth2/v3/certs", ["http:", "https:"]),
  });
}

function optionalPattern(read: Read, name: string, re: RegExp, shape: string): string | undefined {
  const raw = read(name);
  if (raw !== undefined && !re.test(raw)) throw new ConfigError(name, `must look like ${shape}`);
  return raw;
}

function httpTimeouts(read: Read): Readonly<HttpTimeouts> {
  const headersTimeoutMs = int(read, "HTTP_HEADERS_TIMEOUT_MS", HTTP_TIMEOUT_DEFAULTS.headersTimeoutMs, 100, 600_000);
  const requestTimeoutMs = int(read, "HTTP_REQUEST_TIMEOUT_MS", HTTP_TIMEOUT_DEFAULTS.requestTimeoutMs, 100, 3_600_000);
  // Node refuses a headers timeout longer than the request timeout: the headers are part of the request
  if (requestTimeoutMs < headersTimeoutMs) {
    throw new ConfigError(
      "HTTP_REQUEST_TIMEOUT_MS",
      `must be at least HTTP_HEADERS_TIMEOUT_MS (${headersTimeoutMs}), got ${requestTimeoutMs}`,
    );
  }
  const idleTimeoutMs = int(read, "HTTP_IDLE_TIMEOUT_MS", HTTP_TIMEOUT_DEFAULTS.idleTimeoutMs, 100, 3_600_000);
  return Object.freeze({ headersTimeoutMs, requestTimeoutMs, idleTimeoutMs });
}
