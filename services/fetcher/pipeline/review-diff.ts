import { createHash } from "node:crypto";
import { fromBinary, toBinary, toJson } from "@bufbuild/protobuf";
import { TimestampSchema, type Timestamp } from "@bufbuild/protobuf/wkt";
import { ReviewSchema, type Review } from "../../../gen/reviewflow/reviews/v1/review_pb.js";
import { ReviewEventType } from "../../../gen/reviewflow/reviews/v1/events_pb.js";
import type { ReviewWrite, StoredReviewState } from "../store/review-store.js";

/** A change to publish: the event type, the review as it is now (or was, if deleted) and its id. */
export interface ReviewChange {
  type: ReviewEventType;
  review: Review;
  /** The review in protobuf binary (as stored). */
  reviewPb: Uint8Array;
  previousUpdateTime?: Timestamp;
  /** `<review name>@<update time RFC 3339>`, or `<review name>@deleted`: the event id and Nats-Msg-Id. */
  eventId: string;
  /** For deletions: the stored row to mark deleted. */
  storedId?: string;
}

export interface PageDiff {
  changes: ReviewChange[];
  /** Created and updated reviews, to upsert. */
  writes: ReviewWrite[];
  /** Names of reviews stored exactly as fetched. */
  unchanged: string[];
  created: number;
  updated: number;
}

/**
 * Compares a fetched page with what is stored. A review is unchanged when its stored bytes hash
 * the same (Google bumps updateTime on every edit, including replies; the hash also catches a
 * change that kept the time). A review stored as deleted that shows up again is created anew.
 */
export function diffPage(reviews: Review[], stored: Map<string, StoredReviewState>): PageDiff {
  const diff: PageDiff = { changes: [], writes: [], unchanged: [], created: 0, updated: 0 };
  for (const review of reviews) {
    const pb = toBinary(ReviewSchema, review);
    const hash = createHash("sha256").update(pb).digest("hex");
    const before = stored.get(review.name);
    if (before && !before.deleted_at && before.content_hash === hash) {
      diff.unchanged.push(review.name);
      continue;
    }
    const updateTime = review.updateTime!;
    const isUpdate = before !== undefined && !before.deleted_at;
    diff.writes.push({ name: review.name, starRating: review.starRating, updateTime: rfc3339(updateTime), pb, hash });
    diff.changes.push({
      type: isUpdate ? ReviewEventType.UPDATED : ReviewEventType.CREATED,
      review,
      reviewPb: pb,
      previousUpdateTime: isUpdate ? fromBinary(ReviewSchema, before.review_pb).updateTime : undefined,
      eventId: `${review.name}@${rfc3339(updateTime)}`,
    });
    if (isUpdate) diff.updated++;
    else diff.created++;
  }
  return diff;
}

/** DELETED changes for stored reviews a full pass no longer found at Google. */
export function deletions(unseen: StoredReviewState[]): ReviewChange[] {
  return unseen.map((row) => {
    const review = fromBinary(ReviewSchema, row.review_pb);
    return { type: ReviewEventType.DELETED, review, reviewPb: row.review_pb, previousUpdateTime: review.updateTime, eventId: `${row.name}@deleted`, storedId: row.id };
  });
}

/** True when `a` is not after `b`. */
export function notAfter(a: Timestamp, b: Timestamp): boolean {
  return a.seconds < b.seconds || (a.seconds === b.seconds && a.nanos <= b.nanos);
}

/**
 * RFC 3339 in UTC with 0, 3, 6 or 9 fractional digits: protobuf's canonical JSON form of a
 * Timestamp (and how Google writes times), exact to the nanosecond.
 */
export function rfc3339(ts: Timestamp): string {
  return toJson(TimestampSchema, ts) as string;
}
