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
import { createRpcServer, createServiceClient, createStandardInterceptors } from "../../lib/rpc/index.js";
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
import { createTaskStateReads } from "./pipeline/task-state-reads.js";
import { createPublishMarks } from "./pipeline/publish-marks.js";
import { fetcherRoutes } from "./routes.js";
import { createDb, poolSql } from "./store/db.js";

/** The sections the ReviewFetcher reads: its own, the TokenService's (where to reach it, the refresh window), Google's, notifications, the keys, every port's HTTP settings. */
export type FetcherServiceConfig = Pick<Config, "postgres" | "google" | "notifications" | "secrets" | "http" | "token" | "fetcher">;

export interface FetcherServiceOptions {
  config: FetcherServiceConfig;
  dataSource: DataSource;
  /** Connected with the same namespace, ack wait and max deliver as `config` (natsOptionsFrom with stageConsumers). */
  nats: Nats;
  logger: Logger;
  /** Defaults: the TokenService at TOKEN_SERVICE_URL with SERVICE_API_KEY, Google at config.google.endpoints. */
  tokenClient?: Client<typeof TokenService>;
  reviewSource?: ReviewSource;
  authenticator?: Authenticator;
  metrics?: Registry;
  /** How often WatchFetchJob looks at the job (default 300 ms). */
  watchIntervalMs?: number;
  maintenance?: Partial<MaintenanceOptions>;
}

export interface FetcherServiceInstance {
  metrics: Registry;
  /**
   * Starts the stage workers, the notification worker and receivers, the maintenance sweep and the
   * scheduler, then listens on `port` (default FETCHER_PORT; 0 = any free one) at HOST; resolves with the bound port.
   */
  start(port?: number): Promise<number>;
  /** Closes the server, stops pulling, finishes in-flight tasks (acking nothing unfinished). */
  stop(): Promise<void>;
  /** The sync planner (every instance runs one; one plans at a time). */
  scheduler: Scheduler;
  /** Keeps connected accounts' notificationSetting on GOOGLE_PUBSUB_TOPIC (on connect, daily; tests call it directly). */
  settingReconciler: SettingReconciler;
  /** One maintenance pass now: stalled jobs, unpublished first tasks, retention purge. */
  maintain(): Promise<void>;
}

/** Builds the ReviewFetcher (RPC server + workers) without starting anything. */
export function createFetcherService(deps: FetcherServiceOptions): FetcherServiceInstance {
  const { config, logger } = deps;
  const registry = deps.metrics ?? createMetricsRegistry("fetcher");
  const metrics = createFetcherMetrics(registry, deps.nats);
  const db = createDb(deps.dataSource);
  const secretBox = createSecretBox(requireKeyring(config.secrets));
  const tokenClient =
    deps.tokenClient ??
    createServiceClient(TokenService, config.token.url, {
      apiKey: config.secrets.serviceApiKey,
      peerIdleTimeoutMs: config.http.timeouts.idleTimeoutMs,
    });
  const source = deps.reviewSource ?? createGoogleReviewSource({ endpoints: config.google.endpoints, timeoutMs: config.google.timeoutMs });
  // the two statements every page shares with the others in flight (its task's first read, its
  // versions' publish marks) each on a connection of their own, not queued behind page commits
  const sidePool = dedicatedPool(config.postgres.url, { name: "pipeline batches", max: 2, logger });
  // the limiter's own small pool: its hot row must not wait behind the service's queries. Quota
  // counts live for a fraction of a second, so they need no fsync: a Postgres crash losing the
  // last few only lets a handful of requests through early, while every consume stays fast
  const quotaPool = dedicatedPool(config.postgres.url, { name: "quota", max: 4, sessionOptions: "-c synchronous_commit=off", logger });

  const pipeline: PipelineContext = {
    db,
    nats: deps.nats,
    source,
    credentials: createCredentials({ tokenClient, secretBox, refreshWindowSeconds: config.token.refreshWindowSeconds }),
    quota: createGoogleQuota({
      pool: quotaPool,
      qpm: config.google.qpm,
      lanes: config.google.quotaLanes,
      basePenaltyMs: config.fetcher.retryBaseMs,
      maxPenaltyMs: config.fetcher.retryMaxMs,
      metrics,
    }),
    inFlight: createInFlightTarget({ fixed: config.fetcher.concurrency, max: config.fetcher.concurrencyMax, qpm: config.google.qpm }),
    taskStates: createTaskStateReads(poolSql(sidePool)),
    publishMarks: createPublishMarks(poolSql(sidePool)),
    completion: createJobCompletion(),
    metrics,
    logger,
    settings: {
      ackWaitMs: config.fetcher.ackWaitMs,
      maxDeliver: config.fetcher.maxDeliver,
      concurrency: config.fetcher.concurrency,
      retryBaseMs: config.fetcher.retryBaseMs,
      retryMaxMs: config.fetcher.retryMaxMs,
      pollMs: config.fetcher.pollMs,
      stallSeconds: config.fetcher.jobStallTimeoutSeconds,
      retentionDays: config.fetcher.reviewRetentionDays,
    },
  };
  const switches = createStageSwitches(db, config.fetcher.pollMs, logger);
  const workers = createFetchWorkers(pipeline, switches, {
    intervalMs: deps.maintenance?.intervalMs ?? Math.max(config.fetcher.pollMs, 1_000),
    purgeIntervalMs: deps.maintenance?.purgeIntervalMs ?? 10 * 60_000,
    republishAfterMs: deps.maintenance?.republishAfterMs ?? 5_000,
    outboxGraceMs: deps.maintenance?.outboxGraceMs ?? Math.min(10_000, config.fetcher.ackWaitMs),
  });
  const server = createRpcServer({
    routes: fetcherRoutes({
      config: config.fetcher,
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
      authenticator:
        deps.authenticator ?? createApiKeyStore({ dataSource: deps.dataSource, bootstrapAdminKey: config.secrets.adminApiKey }),
    }),
    logger,
    metrics: registry,
    timeouts: config.http.timeouts,
  });

  const notificationWorker = createNotificationWorker(pipeline);
  const settingReconciler = createSettingReconciler(pipeline, { topic: config.notifications.topic, tokenClient });
  const pullReceiver = createPullReceiver({ notifications: config.notifications, nats: deps.nats, logger, metrics });
  const scheduler = createScheduler(pipeline, {
    databaseUrl: config.postgres.url,
    defaults: config.fetcher.sync,
    tokenClient,
    projectQpm: config.google.qpm,
    settingReconciler: config.notifications.topic ? settingReconciler : undefined,
  });

  let stopped = false;
  return {
    metrics: registry,
    scheduler,
    settingReconciler,
    async start(port = config.fetcher.port) {
      await workers.start();
      notificationWorker.start();
      await settingReconciler.start();
      await pullReceiver.start();
      scheduler.start();
      return server.listen(port, config.http.host);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.close();
      await pullReceiver.stop();
      await scheduler.stop();
      await settingReconciler.stop();
      await notificationWorker.stop();
      await workers.stop();
      await quotaPool.end().catch(() => undefined);
      await sidePool.end().catch(() => undefined);
    },
    maintain: () => workers.maintain(),
  };
}
