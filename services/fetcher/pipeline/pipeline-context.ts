import type { DescMessage, MessageInitShape } from "@bufbuild/protobuf";
import type { ReviewSource } from "../../../lib/google/index.js";
import { classifyGoogleError } from "../../../lib/google/index.js";
import type { Logger } from "../../../lib/log/index.js";
import { publishMessage, type Nats, type StageName } from "../../../lib/nats/index.js";
import type { FetcherMetrics } from "../metrics.js";
import type { Db } from "../store/db.js";
import type { JobRow, TriggerName } from "../store/job-store.js";
import type { Credentials } from "./credentials.js";
import type { GoogleQuota, QuotaLane } from "./google-quota.js";
import type { InFlightTarget } from "./in-flight-target.js";
import type { JobCompletion } from "./job-completion.js";
import { taskMessageId } from "./task-ids.js";
import type { PublishMarks } from "./publish-marks.js";
import type { AwayOptions } from "./stage-worker.js";
import type { TaskStateReads } from "./task-state-reads.js";

export interface PipelineSettings {
  ackWaitMs: number;
  maxDeliver: number;
  /** FETCH_CONCURRENCY: fixed, or "auto" (`inFlight` follows Google's latency and the quota). */
  concurrency: number | "auto";
  retryBaseMs: number;
  retryMaxMs: number;
  pollMs: number;
  stallSeconds: number;
  retentionDays: number;
}

/** What every stage needs, built once per fetcher instance. */
export interface PipelineContext {
  db: Db;
  nats: Nats;
  source: ReviewSource;
  credentials: Credentials;
  quota: GoogleQuota;
  /** Tasks each stage runs at once, from Google's latency and the quota (fed by callGoogle). */
  inFlight: InFlightTarget;
  /** Each task's first read: its state and its predecessor's (task-state-reads.ts). */
  taskStates: TaskStateReads;
  /** Records published review versions, one statement for many pages (publish-marks.ts). */
  publishMarks: PublishMarks;
  /** Which jobs have tasks running here: one completion check per burst of a job's commits. */
  completion: JobCompletion;
  metrics: FetcherMetrics;
  logger: Logger;
  settings: PipelineSettings;
}

/**
 * One attempt of one task. `signal` fires at shutdown: it cuts short WAITS (quota slot, previous
 * page), which hand the task back unstarted; a Google call or commit under way is let finish.
 */
export interface TaskAttempt {
  signal: AbortSignal;
  /** A dead letter's replay: the task's message was published again, maybe long after its own. */
  replay?: boolean;
  heartbeat(): void;
  /** Waits without holding the task's worker slot (the quota, the previous page): see stage-worker.ts. */
  away?<T>(wait: Promise<T>, options?: AwayOptions): Promise<T>;
  /** The task's end is committed: a task waiting for it in this process may go on (see local-commits.ts). */
  committed?(): void;
}

/** Publishes a FETCH task under its deterministic message id (a duplicate is dropped by JetStream). */
export async function publishTask<Desc extends DescMessage>(
  ctx: PipelineContext,
  stage: StageName,
  schema: Desc,
  task: MessageInitShape<Desc>,
  taskId: string,
  generation = 0,
): Promise<void> {
  await publishMessage(ctx.nats.publisher, ctx.nats.names.fetch.subject(stage), schema, task, { msgID: taskMessageId(taskId, generation) });
  ctx.metrics.publishes.inc({ kind: "task" });
}

/** The quota lane a job's calls wait in, by what started the job. */
const LANE_OF_TRIGGER: Readonly<Record<TriggerName, QuotaLane>> = {
  on_demand: "on_demand",
  schedule: "schedule",
  reconciliation: "reconciliation",
  notification: "notification",
};

export interface CallOptions {
  /**
   * Runs once the quota slot is granted, right before the call (not again on the retry after a
   * 401): work the call needs that is better not done long before it. If it throws, the call is
   * not made, the slot goes to the project's next caller here, and the error goes to the caller.
   */
  beforeCall?: () => Promise<void>;
}

/**
 * One Google call for a job: waits for the project's quota slot in the lane of the job's
 * trigger, uses the job's token, and on a 401 refreshes the token once and tries again. A 429
 * slows the whole project down before the error goes back to the task (which retries it with
 * backoff).
 */
export async function callGoogle<T>(
  ctx: PipelineContext,
  job: JobRow,
  endpoint: string,
  attempt: TaskAttempt,
  call: (accessToken: string) => Promise<T>,
  options: CallOptions = {},
): Promise<T> {
  let prepared = false;
  const once = async (token: string): Promise<T> => {
    // the task's own heartbeat (task-runner.ts) keeps its message while it waits
    const acquiring = ctx.quota.acquire(job.google_project, { lane: LANE_OF_TRIGGER[job.trigger] ?? "on_demand", signal: attempt.signal });
    // a quota slot is good only within its window: the call goes at once, whatever else runs. At
    // one request a window every wait is a real one: the task's slot is lent at once (kept for
    // 20 ms, the ten-project bench's worst job took 1.072 × its minimum, 1.041–1.044 × without:
    // each of 2,000 first pages held one of 8 slots through its grace); at higher quotas most
    // waits are one limiter round trip, and the slot is kept for them
    const away = { then: "run" as const, graceMs: ctx.quota.plan.points > 1 ? undefined : 0 };
    const slot = await (attempt.away ? attempt.away(acquiring, away) : acquiring);
    if (options.beforeCall && !prepared) {
      try {
        await options.beforeCall();
        prepared = true;
      } catch (err) {
        slot.release();
        throw err;
      }
    }
    const started = performance.now();
    try {
      const out = await call(token);
      ctx.inFlight.observe(job.google_project, performance.now() - started);
      ctx.metrics.googleRequests.inc({ endpoint, outcome: "ok" });
      ctx.quota.recovered(job.google_project);
      return out;
    } catch (err) {
      const failure = classifyGoogleError(err, endpoint);
      ctx.metrics.googleRequests.inc({
        endpoint,
        outcome: failure.kind === "transient" ? `http_${failure.httpStatus || "error"}` : failure.kind,
      });
      if (failure.rateLimited) await ctx.quota.slowDown(job.google_project).catch(() => undefined);
      throw failure;
    }
  };
  try {
    return await once(await ctx.credentials.accessToken(job));
  } catch (err) {
    if ((err as { kind?: string }).kind !== "unauthenticated") throw err;
    return once(await ctx.credentials.refreshed(job));
  }
}
