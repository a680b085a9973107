import type { Client } from "@connectrpc/connect";
import { dedicatedPool } from "../../lib/db/index.js";
import type { DataSource } from "typeorm";
import { createApiKeyStore, type Authenticator } from "../../lib/auth/index.js";
import { requireKeyring, type Config } from "../../lib/config/index.js";
import { createSecretBox } from "../../lib/crypto/index.js";
import { createGoogleReviewSource, type ReviewSource } from "../../lib/google/index.js";
import type { Logger } from "../../lib/log/index.js";
import { createMetricsRegistry, type Registry } from "../../lib/metrics/index.js";
import type { Nats } from "../../lib/nats/index.js";
import { createRpcServer, createServiceClient, createStandardInterceptors, type RpcServer } from "../../lib/rpc/index.js";
import { ReviewFetcher } from "../../gen/reviewflow/fetcher/v1/fetcher_pb.js";
import { TokenService } from "../../gen/reviewflow/token/v1/token_service_pb.js";
import { createFetcherMetrics } from "./metrics.js";
import { createNotificationWorker } from "./notifications/notification-worker.js";
import { createPullReceiver } from "./notifications/pull-receiver.js";
import { createSettingReconciler, type SettingReconciler } from "./notifications/setting-reconciler.js";
import { createCredentials } from "./pipeline/credentials.js";
import { createScheduler, type Scheduler } from "./sync/scheduler.js";
import { createFetchWorkers } from "./pipeline/fetch-workers.js";
import { createInFlightTarget } from "./pipeline/in-flight-target.js";
import { createJobCompletion } from "./pipeline/job-completion.js";
import { createGoogleQuota } from "./pipeline/google-quota.js";
import type { MaintenanceOptions } from "./pipeline/maintenance.js";
import type { PipelineContext } from "./pipeline/pipeline-context.js";
import { createStageSwitches } from "./pipeline/stage-switches.js";
import { fetcherRoutes } from "./routes.js";
import { createDb } from "./store/db.js";

export interface FetcherServiceDeps {
  config: Readonly<Config>;
  dataSource: DataSource;
  /** Connected with the same namespace, ack wait and max deliver as `config` (connectNats). */
  nats: Nats;
  logger: Logger;
  /** Defaults: the TokenService at TOKEN_SERVICE_URL with SERVICE_API_KEY, Google at config.google. */
  tokenClient?: Client<typeof TokenService>;
  reviewSource?: ReviewSource;
  authenticator?: Authenticator;
  metrics?: Registry;
  /** How often WatchFetchJob looks at the job (default 300 ms). */
  watchIntervalMs?: number;
  maintenance?: Partial<MaintenanceOptions>;
}

export interface FetcherService {
  /** The gRPC/Connect server, not yet listening. */
  server: RpcServer;
  metrics: Registry;
  /** Starts the stage workers, the max-deliveries watcher and the maintenance sweep. */
  start(): Promise<void>;
  /** Closes the server, stops pulling, finishes in-flight tasks (acking nothing unfinished). */
  stop(): Promise<void>;
  /** The sync planner (every instance runs one; one plans at a time). */
  scheduler: Scheduler;
  /** Keeps connected accounts' notificationSetting on GOOGLE_PUBSUB_TOPIC (on connect, daily; tests call it directly). */
  notifications: SettingReconciler;
  /** One maintenance pass now: stalled jobs, unpublished first tasks, retention purge. */
  maintain(): Promise<void>;
}

/** Builds the ReviewFetcher (RPC server + workers) without starting anything. */
export function createFetcherService(deps: FetcherServiceDeps): FetcherService {
  const { config, logger } = deps;
  const registry = deps.metrics ?? createMetricsRegistry("fetcher");
  const metrics = createFetcherMetrics(registry, deps.nats);
  const db = createDb(deps.dataSource);
  const secretBox = createSecretBox(requireKeyring(config));
  const tokenClient = deps.tokenClient ?? createServiceClient(TokenService, config.tokenServiceUrl, { apiKey: config.serviceApiKey, peerIdleTimeoutMs: config.httpTimeouts.idleTimeoutMs });
  const source = deps.reviewSource ?? createGoogleReviewSource({ endpoints: config.google, timeoutMs: config.googleTimeoutMs });
  // the limiter's own small pool: its hot row must not wait behind the service's queries. Quota
  // counts live for a fraction of a second, so they need no fsync: a Postgres crash losing the
  // last few only lets a handful of requests through early, while every consume stays fast
  const quotaPool = dedicatedPool(config.databaseUrl, { name: "quota", max: 4, sessionOptions: "-c synchronous_commit=off", logger });

  const pipeline: PipelineContext = {
    db,
    nats: deps.nats,
    source,
    credentials: createCredentials({ tokenClient, secretBox, refreshWindowSeconds: config.tokenRefreshWindowSeconds }),
    quota: createGoogleQuota({ pool: quotaPool, qpm: config.googleQpm, lanes: config.quotaLanes, basePenaltyMs: config.fetchRetryBaseMs, maxPenaltyMs: config.fetchRetryMaxMs, metrics }),
    inFlight: createInFlightTarget({ fixed: config.fetchConcurrency, max: config.fetchConcurrencyMax, qpm: config.googleQpm }),
    completion: createJobCompletion(),
    metrics,
    logger,
    settings: {
      ackWaitMs: config.fetchAckWaitMs,
      maxDeliver: config.fetchMaxDeliver,
      concurrency: config.fetchConcurrency,
      retryBaseMs: config.fetchRetryBaseMs,
      retryMaxMs: config.fetchRetryMaxMs,
      pollMs: config.fetchPollMs,
      stallSeconds: config.jobStallTimeoutSeconds,
      retentionDays: config.reviewRetentionDays,
    },
  };
  const switches = createStageSwitches(db, config.fetchPollMs, logger);
  const workers = createFetchWorkers(pipeline, switches, {
    intervalMs: deps.maintenance?.intervalMs ?? Math.max(config.fetchPollMs, 1_000),
    purgeIntervalMs: deps.maintenance?.purgeIntervalMs ?? 10 * 60_000,
    republishAfterMs: deps.maintenance?.republishAfterMs ?? 5_000,
    outboxGraceMs: deps.maintenance?.outboxGraceMs ?? Math.min(10_000, config.fetchAckWaitMs),
  });
  const server = createRpcServer({
    routes: fetcherRoutes({
      config,
      dataSource: deps.dataSource,
      db,
      pipeline,
      switches,
      tokenClient,
      source,
      secretBox,
      logger,
      watchIntervalMs: deps.watchIntervalMs ?? 300,
    }),
    services: [ReviewFetcher],
    interceptors: createStandardInterceptors({
      logger,
      authenticator: deps.authenticator ?? createApiKeyStore({ dataSource: deps.dataSource, bootstrapAdminKey: config.adminApiKey }),
    }),
    logger,
    metrics: registry,
    timeouts: config.httpTimeouts,
  });

  const notificationWorker = createNotificationWorker(pipeline);
  const reconciler = createSettingReconciler(pipeline, { topic: config.notifications.topic, tokenClient });
  const pullReceiver = createPullReceiver({ config: config.notifications, nats: deps.nats, logger, metrics });
  const scheduler = createScheduler(pipeline, {
    databaseUrl: config.databaseUrl,
    defaults: config.sync,
    tokenClient,
    projectQpm: config.googleQpm,
    notifications: config.notifications.topic ? reconciler : undefined,
  });

  let stopped = false;
  return {
    server,
    metrics: registry,
    scheduler,
    notifications: reconciler,
    async start() {
      await workers.start();
      notificationWorker.start();
      await reconciler.start();
      await pullReceiver.start();
      scheduler.start();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.close();
      await pullReceiver.stop();
      await scheduler.stop();
      await reconciler.stop();
      await notificationWorker.stop();
      await workers.stop();
      await quotaPool.end().catch(() => undefined);
    },
    maintain: () => workers.maintain(),
  };
}
