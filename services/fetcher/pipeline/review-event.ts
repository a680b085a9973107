import { WireType } from "@bufbuild/protobuf/wire";
import { timestampNow, type Timestamp } from "@bufbuild/protobuf/wkt";
import { ReviewEventSchema, ReviewEventType } from "../../../gen/reviewflow/reviews/v1/events_pb.js";
import { encodeWithSharedWriter, writeString, writeTimestamp } from "./wire-writer.js";

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

/** The event's field numbers, read from its descriptor (a renumbered .proto cannot drift from this encoder). */
const FIELD = ReviewEventSchema.field;

/**
 * A ReviewEvent in protobuf binary, written field by field on the shared writer (wire-writer.ts):
 * byte for byte what `toBinary(ReviewEventSchema, create(ReviewEventSchema, …))` writes (fields in
 * number order, zero values left out), with the review's bytes (already encoded once, for
 * storage and the change hash) copied in as field 7 instead of encoding the review again. The
 * event is the hot path, one per changed review.
 */
export function encodeReviewEvent(event: ReviewVersionEvent): Uint8Array {
  return encodeWithSharedWriter((w) => {
    w.tag(FIELD.eventId.number, WireType.LengthDelimited).string(eventIdOf(event));
    if (event.type !== ReviewEventType.UNSPECIFIED) w.tag(FIELD.type.number, WireType.Varint).int32(event.type);
    writeString(w, FIELD.jobId.number, event.jobId);
    writeString(w, FIELD.tenantId.number, event.tenantId ?? "");
    writeString(w, FIELD.clientId.number, event.clientId ?? "");
    writeString(w, FIELD.locationId.number, event.locationId);
    w.tag(FIELD.review.number, WireType.LengthDelimited).bytes(event.reviewPb);
    if (event.previousUpdateTime) writeTimestamp(w, FIELD.previousUpdateTime.number, event.previousUpdateTime);
    writeTimestamp(w, FIELD.observeTime.number, timestampNow());
    if (event.version !== 0) w.tag(FIELD.version.number, WireType.Varint).uint32(event.version);
    if (event.version - 1 !== 0) w.tag(FIELD.previousVersion.number, WireType.Varint).uint32(event.version - 1);
  });
}
