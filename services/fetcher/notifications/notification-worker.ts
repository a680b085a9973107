import { randomUUID } from "node:crypto";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { JsMsg } from "@nats-io/jetstream";
import { decodeMessage } from "../../../lib/nats/index.js";
import { ReviewNotificationSchema, type ReviewNotification } from "../../../gen/reviewflow/reviews/v1/tasks_pb.js";
import type { PipelineContext } from "../pipeline/pipeline-context.js";
import { publishRootTask, rootTaskId } from "../pipeline/root-task.js";
import { sleep } from "../pipeline/sleep.js";
import type { JobRow } from "../store/job-store.js";
import { createQueuedJob } from "../store/job-status.js";
import { findNotifiedLocations, linkMessageToJob, pendingPassOf, recordMessage } from "../store/notification-store.js";
import { insertPendingTask } from "../store/task-store.js";

/** Notifications handled at once per instance (each is a few statements and a publish). */
const CONCURRENCY = 8;

export interface NotificationWorker {
  start(): void;
  stop(): Promise<void>;
}

/**
 * Consumes `fetch.notifications` (what the push route and the pull subscriber handed on) and makes
 * each notification a one-review pass: a job with trigger `notification` per connected client
 * owning the location, whose one task is the location's first review page carrying the review's
 * name (reviews-stage.ts then reads that review alone with reviews.get, under the location's
 * one-pass lease, and versions it through the review store and outbox like any page).
 *
 * A notification of a review whose pass has not read it yet (queued, or parked behind another
 * pass over the location) joins that pass instead of starting one (counted `coalesced`).
 *
 * The messageId is recorded in the same transaction as the jobs, so a redelivery (from Pub/Sub,
 * or of this message after a crash) is a counted duplicate and starts nothing. A notification
 * naming no connected location, or one that cannot be read, is logged, acknowledged and counted:
 * never retried forever. Only a failure of Postgres itself hands the message back (retried with
 * JetStream's bounded redelivery).
 */
export function createNotificationWorker(ctx: PipelineContext): NotificationWorker {
  const log = ctx.logger.child({ component: "notifications" });
  const count = (outcome: string) => ctx.metrics.notifications.inc({ receiver: "fetcher", outcome });
  const stopping = new AbortController();
  const inFlight = new Set<Promise<void>>();
  let loop: Promise<void> | undefined;

  async function handle(msg: JsMsg): Promise<void> {
    let n: ReviewNotification;
    try {
      n = decodeMessage(ReviewNotificationSchema, msg.data, msg.headers);
      if (!n.messageId || !n.reviewName.startsWith(`${n.locationName}/reviews/`)) throw new Error("incomplete notification");
    } catch (err) {
      count("malformed");
      log.warn("unreadable notification acknowledged", { err: String((err as Error)?.message ?? err) });
      msg.ack();
      return;
    }
    count("received");
    const publishTime = n.publishTime ? timestampDate(n.publishTime) : undefined;
    const outcome = await ctx.db.tx(async (sql) => {
      if (!(await recordMessage(sql, n.messageId, publishTime))) return { kind: "duplicate" as const };
      const locations = (await findNotifiedLocations(sql, n.locationName)).filter((l) => l.google_project);
      if (locations.length === 0) return { kind: "unknown" as const };
      const jobs: JobRow[] = [];
      let coalesced = 0;
      for (const location of locations) {
        const pending = await pendingPassOf(sql, location.scope_key, n.reviewName);
        if (pending) {
          coalesced++;
          await linkMessageToJob(sql, n.messageId, pending);
          continue;
        }
        const job = await createQueuedJob(sql, {
          id: randomUUID(),
          tenantId: location.tenant_id,
          clientId: location.client_id,
          branchId: null,
          targetLocation: n.locationName,
          targetReview: n.reviewName,
          scopeKey: location.scope_key,
          googleProject: location.google_project!,
          accessTokenSealed: null,
          mode: "incremental",
          requestScope: null,
          requestId: null,
          createdBy: `notification:${n.receiver || "unknown"}`,
          locations: 1,
          trigger: "notification",
        });
        await insertPendingTask(sql, await rootTaskId(sql, job), job.id, "reviews");
        jobs.push(job);
      }
      if (jobs[0]) await linkMessageToJob(sql, n.messageId, jobs[0].id);
      return { kind: "passes" as const, jobs, coalesced };
    });
    if (outcome.kind !== "passes") {
      count(outcome.kind);
      if (outcome.kind === "unknown")
        log.info("notification for a location no connected client has; acknowledged", {
          location: n.locationName,
          message_id: n.messageId,
        });
      msg.ack();
      return;
    }
    for (let i = 0; i < outcome.coalesced; i++) count("coalesced");
    for (const job of outcome.jobs) {
      // a failed publish is left to the maintenance sweep (the job's root is not marked published)
      await publishRootTask(ctx, job).catch((err: unknown) =>
        log.warn("notification pass not yet on FETCH; the sweep publishes it", {
          job_id: job.id,
          err: String((err as Error)?.message ?? err),
        }),
      );
      count("passes");
    }
    msg.ack();
  }

  const pullLoop = async () => {
    let consumer: Awaited<ReturnType<typeof ctx.nats.js.consumers.get>> | undefined;
    while (!stopping.signal.aborted) {
      const free = CONCURRENCY - inFlight.size;
      if (free <= 0) {
        await Promise.race(inFlight);
        continue;
      }
      try {
        consumer ??= await ctx.nats.js.consumers.get(ctx.nats.names.fetch.stream, ctx.nats.names.fetch.notifications.consumer);
        const batch = await consumer.fetch({ max_messages: free, expires: 1_000 });
        for await (const msg of batch) {
          if (stopping.signal.aborted) {
            msg.nak();
            continue;
          }
          const task = handle(msg)
            .catch((err: unknown) => {
              // Postgres away: give it back, JetStream redelivers after a pause
              log.warn("notification not handled; redelivered later", { err: String((err as Error)?.message ?? err) });
              msg.nak(ctx.settings.retryBaseMs);
            })
            .finally(() => inFlight.delete(task));
          inFlight.add(task);
        }
      } catch (err) {
        if (stopping.signal.aborted) break;
        log.warn("notification pull failed; retrying", { err: String((err as Error)?.message ?? err) });
        await sleep(1_000, stopping.signal).catch(() => undefined);
      }
    }
  };

  return {
    start() {
      loop ??= pullLoop().catch((err: unknown) => log.error("notification worker stopped", { err }));
    },
    async stop() {
      stopping.abort();
      await loop;
      await Promise.allSettled([...inFlight]);
    },
  };
}
