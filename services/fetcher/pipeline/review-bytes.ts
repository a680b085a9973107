import { toBinary } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { TimestampSchema, type Timestamp } from "@bufbuild/protobuf/wkt";
import { ReviewReplySchema, ReviewSchema, ReviewerSchema, type Review } from "../../../gen/reviewflow/reviews/v1/review_pb.js";

/** Field numbers, read from the descriptors (a renumbered .proto cannot drift from this encoder). */
const R = ReviewSchema.field;
const WHO = ReviewerSchema.field;
const REPLY = ReviewReplySchema.field;
const TS = TimestampSchema.field;

/**
 * A fetched review's protobuf bytes: what is hashed, stored and published, so they must be
 * exactly `toBinary(ReviewSchema, review)` (a different byte would read as a changed review).
 * They are: fields in number order, implicit-presence fields left out at their zero value,
 * `optional` ones and messages written whenever set — the library's own rules, checked against
 * it field by field in review-bytes.test.ts, which also fails when Review gains a field.
 * Written through one reused writer (encoding is synchronous): toBinary starts a writer at 128
 * bytes and doubles it up to the review's size, five allocations of a review's ~1 kB, which made
 * encoding most of a review's fingerprint. A review carrying unknown fields (never one built from
 * Google's JSON) goes through toBinary.
 */
const writer = new BinaryWriter();

export function reviewBytes(review: Review): Uint8Array {
  if (review.$unknown?.length) return toBinary(ReviewSchema, review);
  const w = writer;
  try {
    str(w, R.name.number, review.name);
    str(w, R.reviewId.number, review.reviewId);
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
      str(w, REPLY.comment.number, reply.comment);
      if (reply.updateTime) writeTimestamp(w, REPLY.updateTime.number, reply.updateTime);
      w.join();
    }
    str(w, R.locationName.number, review.locationName);
    return w.finish();
  } catch (err) {
    w.finish(); // leaves the shared writer empty for the next review
    throw err;
  }
}

function str(w: BinaryWriter, fieldNo: number, value: string): void {
  if (value !== "") w.tag(fieldNo, WireType.LengthDelimited).string(value);
}

/** A Timestamp as a length-delimited field, as toBinary writes it (zero seconds or nanos left out). */
export function writeTimestamp(w: BinaryWriter, fieldNo: number, ts: Timestamp): void {
  w.tag(fieldNo, WireType.LengthDelimited).fork();
  if (ts.seconds !== 0n) w.tag(TS.seconds.number, WireType.Varint).int64(ts.seconds);
  if (ts.nanos !== 0) w.tag(TS.nanos.number, WireType.Varint).int32(ts.nanos);
  w.join();
}
