import { create, toBinary } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { headers as natsHeaders } from "@nats-io/nats-core";
import { TYPE_HEADER } from "../../../lib/nats/index.js";
import { ReviewEventSchema } from "../../../gen/reviewflow/reviews/v1/events_pb.js";
import type { JobRow } from "../store/job-store.js";
import type { PipelineContext } from "./pipeline-context.js";
import type { ReviewChange } from "./review-diff.js";

/** ReviewEvent.review is field 7, length-delimited: tag (7 << 3) | 2. */
const REVIEW_FIELD_TAG = 0x3a;

/**
 * A ReviewEvent in protobuf binary, with the review's bytes (already encoded once, for storage
 * and the change hash) appended as field 7 instead of encoding the review a second time: the
 * event is the hot path, one per changed review. Fields may appear in any order on the wire, so
 * this is exactly what `toBinary(ReviewEventSchema, event)` would decode to.
 */
export function encodeReviewEvent(job: Pick<JobRow, "id" | "tenant_id" | "client_id">, locationId: string, change: ReviewChange): Uint8Array {
  const head = toBinary(
    ReviewEventSchema,
    create(ReviewEventSchema, {
      eventId: change.eventId,
      type: change.type,
      jobId: job.id,
      tenantId: job.tenant_id ?? "",
      clientId: job.client_id ?? "",
      locationId,
      previousUpdateTime: change.previousUpdateTime,
      observeTime: timestampNow(),
    }),
  );
  const length = varint(change.reviewPb.length);
  const out = new Uint8Array(head.length + 1 + length.length + change.reviewPb.length);
  out.set(head, 0);
  out[head.length] = REVIEW_FIELD_TAG;
  out.set(length, head.length + 1);
  out.set(change.reviewPb, head.length + 1 + length.length);
  return out;
}

/**
 * Publishes one change on `reviews.<client token>.<location id>`. The event id is `<review
 * name>@<update time>`; JetStream de-duplicates per stream, not per subject, so the Nats-Msg-Id
 * is the event id scoped by the subject's client token: two clients that reach the same Google
 * location each get the change on their own subject, and a re-run page publishes nothing twice.
 */
export async function publishReviewEvent(ctx: PipelineContext, job: JobRow, locationId: string, change: ReviewChange): Promise<void> {
  const h = natsHeaders();
  h.set(TYPE_HEADER, ReviewEventSchema.typeName);
  await ctx.nats.js.publish(ctx.nats.names.reviews.subject(job.scope_key, locationId), encodeReviewEvent(job, locationId, change), {
    headers: h,
    msgID: `${job.scope_key}/${change.eventId}`,
  });
  ctx.metrics.publishes.inc({ kind: "review_event" });
}

function varint(value: number): Uint8Array {
  const bytes: number[] = [];
  let v = value;
  while (v > 0x7f) {
    bytes.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  bytes.push(v);
  return Uint8Array.from(bytes);
}
