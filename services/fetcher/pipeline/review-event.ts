import { create, toBinary } from "@bufbuild/protobuf";
import { timestampNow, type Timestamp } from "@bufbuild/protobuf/wkt";
import { ReviewEventSchema, type ReviewEventType } from "../../../gen/reviewflow/reviews/v1/events_pb.js";

/** ReviewEvent.review is field 7, length-delimited: tag (7 << 3) | 2. */
const REVIEW_FIELD_TAG = 0x3a;

/** One version of one review, as the REVIEWS stream carries it. */
export interface ReviewVersionEvent {
  /** The subject's client token (the client id, or raw-<hash>): scopes the Nats-Msg-Id. */
  scopeKey: string;
  locationId: string;
  jobId: string;
  tenantId: string | null;
  clientId: string | null;
  /** The Google review name. */
  name: string;
  version: number;
  type: ReviewEventType;
  /** The review in protobuf binary (as stored): as it is now, or, deleted, as it was last stored. */
  reviewPb: Uint8Array;
  previousUpdateTime?: Timestamp;
}

/** `<review name>@v<version>`: the event id. */
export function eventIdOf(event: Pick<ReviewVersionEvent, "name" | "version">): string {
  return `${event.name}@v${event.version}`;
}

/**
 * `<subject client token>/<event id>`: JetStream de-duplicates per stream, not per subject, so
 * two clients that reach the same Google location each get the change on their own subject.
 */
export function messageIdOf(event: Pick<ReviewVersionEvent, "scopeKey" | "name" | "version">): string {
  return `${event.scopeKey}/${eventIdOf(event)}`;
}

/**
 * A ReviewEvent in protobuf binary, with the review's bytes (already encoded once, for storage
 * and the change hash) appended as field 7 instead of encoding the review a second time: the
 * event is the hot path, one per changed review. Fields may appear in any order on the wire, so
 * this is exactly what `toBinary(ReviewEventSchema, event)` would decode to.
 */
export function encodeReviewEvent(event: ReviewVersionEvent): Uint8Array {
  const head = toBinary(
    ReviewEventSchema,
    create(ReviewEventSchema, {
      eventId: eventIdOf(event),
      type: event.type,
      jobId: event.jobId,
      tenantId: event.tenantId ?? "",
      clientId: event.clientId ?? "",
      locationId: event.locationId,
      previousUpdateTime: event.previousUpdateTime,
      observeTime: timestampNow(),
      version: event.version,
      previousVersion: event.version - 1,
    }),
  );
  const length = varint(event.reviewPb.length);
  const out = new Uint8Array(head.length + 1 + length.length + event.reviewPb.length);
  out.set(head, 0);
  out[head.length] = REVIEW_FIELD_TAG;
  out.set(length, head.length + 1);
  out.set(event.reviewPb, head.length + 1 + length.length);
  return out;
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
