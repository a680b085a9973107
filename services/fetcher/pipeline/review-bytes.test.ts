import assert from "node:assert/strict";
import { create, toBinary } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { ReviewReplySchema, ReviewSchema, ReviewerSchema, type Review } from "../../../gen/reviewflow/reviews/v1/review_pb.js";
import { reviewBytes } from "./review-bytes.js";

/** A small seeded generator: the same reviews on every run. */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

describe("a review's bytes", () => {
  it("cover every field of Review, Reviewer and ReviewReply (a new field must be added to reviewBytes)", () => {
    // reviewBytes writes these fields by hand; one it does not know would be missing from the
    // bytes that are hashed and stored, and that review would never read as changed
    assert.deepEqual(
      ReviewSchema.fields.map((f) => f.name),
      ["name", "review_id", "reviewer", "star_rating", "comment", "create_time", "update_time", "reply", "location_name"],
    );
    assert.deepEqual(
      ReviewerSchema.fields.map((f) => f.name),
      ["display_name", "profile_photo_url", "is_anonymous"],
    );
    assert.deepEqual(
      ReviewReplySchema.fields.map((f) => f.name),
      ["comment", "update_time"],
    );
  });

  it("are byte for byte toBinary's, for reviews with every mix of fields set, empty and left out", () => {
    const next = random(17);
    const pick = <T>(...values: T[]): T => values[Math.floor(next() * values.length)]!;
    const text = () => pick("", "a", "Très bien ✓ 🍕", "x".repeat(Math.floor(next() * 3_000)));
    const time = () => pick(undefined, timestampFromMs(0), timestampFromMs(1_700_000_000_000), timestampFromMs(1_700_000_000_123));
    for (let i = 0; i < 2_000; i++) {
      const review: Review = create(ReviewSchema, {
        name: pick("", `accounts/1/locations/2/reviews/r${i}`),
        reviewId: pick("", `r${i}`),
        reviewer: pick(undefined, {}, { displayName: text(), profilePhotoUrl: pick(undefined, text()), isAnonymous: pick(false, true) }),
        starRating: pick(0, 1, 5, -1),
        comment: pick(undefined, text()),
        createTime: time(),
        updateTime: time(),
        reply: pick(undefined, {}, { comment: text(), updateTime: time() }),
        locationName: pick("", "accounts/1/locations/2"),
      });
      if (next() < 0.1 && review.updateTime) review.updateTime.nanos = 999_999_999;
      assert.deepEqual(reviewBytes(review), toBinary(ReviewSchema, review), `review ${i}`);
    }
  });

  it("keeps a review's unknown fields, as toBinary does", () => {
    const review = create(ReviewSchema, { name: "accounts/1/locations/2/reviews/r1" });
    review.$unknown = [{ no: 99, wireType: 0, data: new Uint8Array([0xf8, 0x06, 0x01]) }];
    assert.deepEqual(reviewBytes(review), toBinary(ReviewSchema, review));
  });
});
