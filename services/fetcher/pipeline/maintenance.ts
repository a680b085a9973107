import { activeJobIds, jobsWithUnpublishedRoot } from "../store/job-store.js";
import { completeIfDone, failStalledJobs } from "../store/job-status.js";
import { purgeOldReviews } from "../store/review-store.js";
import { purgeMessages } from "../store/notification-store.js";
import type { PipelineContext } from "./pipeline-context.js";
import { reviewsWithStalePending } from "../store/review-outbox-store.js";
import { keepWaitingJobsAlive } from "../store/location-pass-store.js";
import { handOffFreeLocations } from "./pass-handoff.js";
import { publishPending } from "./review-publisher.js";
import { publishRootTask } from "./root-task.js";

export interface MaintenanceOptions {
  /** How often stalls and unpublished jobs are looked for. */
  intervalMs: number;
  /** How often old reviews are purged. */
  purgeIntervalMs: number;
  /** A job whose first publish has not been confirmed for this long is published again. */
  republishAfterMs: number;
  /** A review version still unpublished this long after its commit is published by the sweep. */
  outboxGraceMs: number;
}

/**
 * Periodic upkeep, safe to run on every instance at once (each step is one conditional
 * statement or an idempotent publish): finished jobs not yet marked so end, jobs without progress for JOB_STALL_TIMEOUT_SECONDS end
 * FAILED, jobs whose first task never reached FETCH get it, review versions whose publisher died
 * are published, locations whose pass ended without a hand-off go to their waiters, and reviews not seen at Google for
 * REVIEW_RETENTION_DAYS are purged.
 */
export function createMaintenance(ctx: PipelineContext, options: MaintenanceOptions) {
  let timer: NodeJS.Timeout | undefined;
  let lastPurge = 0;
  let running: Promise<void> | undefined;

  async function runOnce(): Promise<void> {
    // versions whose publisher died between its commit and its publish: published now (in
    // order, duplicates dropped by JetStream), then their jobs may complete below
    const stale = await reviewsWithStalePending(ctx.db, options.outboxGraceMs / 1000, 500);
    if (stale.length > 0) {
      const published = await publishPending(ctx, stale);
      ctx.logger.info("review versions published by the sweep", { count: published.length });
    }
    // locations whose pass ended without handing on (crash, failed or cancelled job, lost hand-off)
    await handOffFreeLocations(ctx);
    // a process that died between a task's commit and its completion check leaves a finished job
    // RUNNING: look at every active job once per pass
    for (const id of await activeJobIds(ctx.db)) {
      const ended = await completeIfDone(ctx.db, id);
      if (ended) ctx.metrics.jobDuration.observe({ status: ended.status }, ended.seconds);
    }
    await keepWaitingJobsAlive(ctx.db, ctx.settings.stallSeconds);
    for (const job of await failStalledJobs(ctx.db, ctx.settings.stallSeconds)) {
      ctx.logger.warn("job failed: stalled", { job_id: job.id });
      ctx.metrics.jobDuration.observe({ status: "FAILED" }, (Date.now() - job.created_at.getTime()) / 1000);
    }
    for (const job of await jobsWithUnpublishedRoot(ctx.db, options.republishAfterMs / 1000, 100)) {
      await publishRootTask(ctx, job).catch((err: unknown) =>
        ctx.logger.warn("first task still not published", { job_id: job.id, err: String((err as Error)?.message ?? err) }),
      );
    }
    if (Date.now() - lastPurge >= options.purgeIntervalMs) {
      lastPurge = Date.now();
      const purged = await purgeOldReviews(ctx.db, ctx.settings.retentionDays);
      await purgeMessages(ctx.db, ctx.settings.retentionDays);
      if (purged > 0) ctx.logger.info("old reviews purged", { count: purged, retention_days: ctx.settings.retentionDays });
    }
  }

  return {
    runOnce,
    start() {
      if (timer) return;
      const tick = () => {
        running = runOnce()
          .catch((err: unknown) => ctx.logger.warn("maintenance pass failed", { err: String((err as Error)?.message ?? err) }))
          .finally(() => {
            if (timer) timer = setTimeout(tick, options.intervalMs);
          });
      };
      timer = setTimeout(tick, options.intervalMs);
    },
    async stop() {
      if (timer) clearTimeout(timer);
      timer = undefined;
      await running;
    },
  };
}
