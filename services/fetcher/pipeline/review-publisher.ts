import { equals, fromBinary } from "@bufbuild/protobuf";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { headers as natsHeaders } from "@nats-io/nats-core";
import { TYPE_HEADER } from "../../../lib/nats/index.js";
import { ReviewEventSchema, ReviewEventType } from "../../../gen/reviewflow/reviews/v1/events_pb.js";
import { ReviewSchema } from "../../../gen/reviewflow/reviews/v1/review_pb.js";
import { loadPendingVersions, renumberPending, type PendingVersion } from "../store/review-outbox-store.js";
import type { PipelineContext } from "./pipeline-context.js";
import { encodeReviewEvent, messageIdOf, type ReviewVersionEvent } from "./review-event.js";

/** How often a review's pending versions are renumbered past foreign events before giving up. */
const MAX_RENUMBERS = 5;

export const EVENT_TYPE: Record<PendingVersion["type"], ReviewEventType> = {
  created: ReviewEventType.CREATED,
  updated: ReviewEventType.UPDATED,
  deleted: ReviewEventType.DELETED,
};

/** A version event keyed by its review row, so that it can be marked published. */
export interface OutboxEvent extends ReviewVersionEvent {
  reviewId: string;
}

/** The stream holds a different event under this review's version (not a copy of ours). */
class ForeignEventError extends Error {
  constructor(readonly event: OutboxEvent) {
    super(`REVIEWS already holds another event with id ${messageIdOf(event)}`);
  }
}

export function outboxEventOf(row: PendingVersion): OutboxEvent {
  return {
    reviewId: row.review_id,
    scopeKey: row.scope_key,
    locationId: row.location_id,
    jobId: row.job_id ?? "",
    tenantId: row.tenant_id,
    clientId: row.client_id,
    name: row.name,
    version: row.version,
    type: EVENT_TYPE[row.type],
    reviewPb: row.review_pb,
    previousUpdateTime: updateTimeOf(row.prev_pb),
  };
}

/**
 * The update time inside a stored review's bytes: exactly Google's (a timestamptz column holds
 * microseconds, a JS Date milliseconds). Undefined without bytes (a created review, a tombstone).
 */
export function updateTimeOf(reviewPb: Uint8Array | null | undefined): Timestamp | undefined {
  return reviewPb && reviewPb.length > 0 ? fromBinary(ReviewSchema, reviewPb).updateTime : undefined;
}

/**
 * Publishes versions and records them published (publish-marks.ts: in one statement with the
 * marks of the instance's other pages). Each review's versions go out one after the
 * other, oldest first (the next only once JetStream acknowledged the one before), different
 * reviews in parallel. A publish JetStream reports as a duplicate is checked against the stored
 * message: a copy of ours is fine (a crash or another publisher got there first); anything else
 * means the stream already used that version number, and the review's pending versions are
 * renumbered past it and published again.
 */
export async function publishVersions(ctx: PipelineContext, events: OutboxEvent[]): Promise<void> {
  const byReview = new Map<string, OutboxEvent[]>();
  for (const event of events) {
    const list = byReview.get(event.reviewId);
    if (list) list.push(event);
    else byReview.set(event.reviewId, [event]);
  }
  const published: { reviewId: string; version: number }[] = [];
  const results = await Promise.allSettled(
    [...byReview.values()].map(async (first) => {
      let list = first.sort((a, b) => a.version - b.version);
      for (let round = 0; ; round++) {
        try {
          for (const event of list) {
            await publishOne(ctx, event);
            published.push({ reviewId: event.reviewId, version: event.version });
          }
          return;
        } catch (err) {
          if (!(err instanceof ForeignEventError) || round >= MAX_RENUMBERS) throw err;
          ctx.logger.error("REVIEWS holds a foreign event under a version of ours; renumbering", {
            review: err.event.name,
            version: err.event.version,
          });
          ctx.metrics.publishes.inc({ kind: "review_event_renumbered" });
          await renumberPending(ctx.db, err.event.reviewId, err.event.version);
          list = (await loadPendingVersions(ctx.db, [err.event.reviewId])).map(outboxEventOf);
        }
      }
    }),
  );
  await ctx.publishMarks.mark(published);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) throw failed.reason;
}

/** Publishes every unpublished version of these reviews (the maintenance sweep, a stale page). */
export async function publishPending(ctx: PipelineContext, reviewIds: string[]): Promise<PendingVersion[]> {
  const rows = await loadPendingVersions(ctx.db, reviewIds);
  await publishVersions(ctx, rows.map(outboxEventOf));
  return rows;
}

async function publishOne(ctx: PipelineContext, event: OutboxEvent): Promise<void> {
  const h = natsHeaders();
  h.set(TYPE_HEADER, ReviewEventSchema.typeName);
  const subject = ctx.nats.names.reviews.subject(event.scopeKey, event.locationId);
  const ack = await ctx.nats.publisher.publish(subject, encodeReviewEvent(event), { headers: h, msgID: messageIdOf(event) });
  ctx.metrics.publishes.inc({ kind: "review_event" });
  if (!ack.duplicate) return;
  ctx.metrics.publishes.inc({ kind: "review_event_duplicate" });
  const stored = await ctx.nats.jsm.streams.getMessage(ctx.nats.names.reviews.stream, { seq: ack.seq });
  if (!stored || stored.subject !== subject || !sameChange(stored.data, event)) throw new ForeignEventError(event);
}

/** The stored event says the same as ours: same type, version and review content. */
function sameChange(data: Uint8Array, event: OutboxEvent): boolean {
  try {
    const theirs = fromBinary(ReviewEventSchema, data);
    return (
      theirs.type === event.type &&
      theirs.version === event.version &&
      theirs.review !== undefined &&
      equals(ReviewSchema, theirs.review, fromBinary(ReviewSchema, event.reviewPb))
    );
  } catch {
    return false;
  }
}
