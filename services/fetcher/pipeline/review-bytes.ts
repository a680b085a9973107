import { toBinary } from "@bufbuild/protobuf";
import { WireType } from "@bufbuild/protobuf/wire";
import { ReviewReplySchema, ReviewSchema, ReviewerSchema, type Review } from "../../../gen/reviewflow/reviews/v1/review_pb.js";
import { encodeWithSharedWriter, writeString, writeTimestamp } from "./wire-writer.js";

/** Field numbers, read from the descriptors (a renumbered .proto cannot drift from this encoder). */
const R = ReviewSchema.field;
const WHO = ReviewerSchema.field;
const REPLY = ReviewReplySchema.field;

/**
 * A fetched review's protobuf bytes: what is hashed, stored and published, so they must be
 * exactly `toBinary(ReviewSchema, review)` (a different byte would read as a changed review).
 * They are: fields in number order, implicit-presence fields left out at their zero value,
 * `optional` ones and messages written whenever set — the library's own rules, checked against
 * it field by field in review-bytes.test.ts, which also fails when Review gains a field.
 * Written through the shared writer (wire-writer.ts): toBinary grows a writer of its own from 128
 * bytes to the review's size, five allocations of a review's ~1 kB, which made encoding most of a
 * review's fingerprint. A review carrying unknown fields (never one built from Google's JSON)
 * goes through toBinary.
 */
export function reviewBytes(review: Review): Uint8Array {
  if (review.$unknown?.length) return toBinary(ReviewSchema, review);
  return encodeWithSharedWriter((w) => {
    writeString(w, R.name.number, review.name);
    writeString(w, R.reviewId.number, review.reviewId);
    const who = review.reviewer;
    if (who) {
      w.tag(R.reviewer.number, WireType.LengthDelimited).fork();
      if (who.displayName !== undefined) w.tag(WHO.displayName.number, WireType.LengthDelimited).string(who.displayName);
      if (who.profilePhotoUrl !== undefined) w.tag(WHO.profilePhotoUrl.number, WireType.LengthDelimited).string(who.profilePhotoUrl);
      if (who.isAnonymous) w.tag(WHO.isAnonymous.number, WireType.Varint).bool(true);
      w.join();
    }
    if (review.starRating !== 0) w.tag(R.starRating.number, WireType.Varint).int32(review.starRating);
    if (review.comment !== undefined) w.tag(R.comment.number, WireType.LengthDelimited).string(review.comment);
    if (review.createTime) writeTimestamp(w, R.createTime.number, review.createTime);
    if (review.updateTime) writeTimestamp(w, R.updateTime.number, review.updateTime);
    const reply = review.reply;
    if (reply) {
      w.tag(R.reply.number, WireType.LengthDelimited).fork();
      writeString(w, REPLY.comment.number, reply.comment);
      if (reply.updateTime) writeTimestamp(w, REPLY.updateTime.number, reply.updateTime);
      w.join();
    }
    writeString(w, R.locationName.number, review.locationName);
  });
}
