import assert from "node:assert/strict";
import { create, equals, fromBinary, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { ReviewEventSchema, ReviewEventType } from "../../../gen/reviewflow/reviews/v1/events_pb.js";
import { ReviewSchema } from "../../../gen/reviewflow/reviews/v1/review_pb.js";
import { encodeEvent, encodeReview } from "./review-wire.js";

/** A small deterministic generator (mulberry32), so a failure names a reproducible case. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = ["", "a", "Zürich", "東京の店", "👍🏽", "\ud800", "\udfff x", "line\nbreak", "\u0000", "x".repeat(130), "é".repeat(70)];

function text(next: () => number, max = 6): string {
  let out = "";
  for (let i = Math.floor(next() * max); i > 0; i--) out += PIECES[Math.floor(next() * PIECES.length)]!;
  return out;
}

function maybe<T>(next: () => number, value: () => T): T | undefined {
  return next() < 0.5 ? value() : undefined;
}

function time(next: () => number) {
  const pick = next();
  const seconds = pick < 0.1 ? 0n : pick < 0.2 ? 2n ** 40n : BigInt(Math.floor(next() * 2_000_000_000));
  const nanos = next() < 0.3 ? 0 : next() < 0.5 ? 123_000_000 : Math.floor(next() * 999_999_999);
  return { seconds, nanos };
}

function randomReview(seed: number): MessageInitShape<typeof ReviewSchema> {
  const next = rng(seed);
  return {
    name: `accounts/${seed}/locations/${text(next, 2)}/reviews/r${seed}`,
    reviewId: next() < 0.9 ? `r${seed}` : "",
    reviewer: maybe(next, () => ({
      displayName: maybe(next, () => text(next)),
      profilePhotoUrl: maybe(next, () => `https://lh3.googleusercontent.com/a-/${text(next, 3)}`),
      isAnonymous: next() < 0.3,
    })),
    starRating: Math.floor(next() * 6),
    comment: maybe(next, () => (next() < 0.05 ? "y".repeat(20_000 + Math.floor(next() * 200_000)) : text(next, 12))),
    createTime: maybe(next, () => time(next)),
    updateTime: maybe(next, () => time(next)),
    reply: maybe(next, () => ({ comment: text(next, 4), updateTime: maybe(next, () => time(next)) })),
    locationName: next() < 0.9 ? `accounts/${seed}/locations/x` : "",
  };
}

describe("review-wire", () => {
  it("encodes a review to exactly the bytes toBinary writes (the stored change hash depends on them)", () => {
    for (let seed = 1; seed <= 3_000; seed++) {
      const review = create(ReviewSchema, randomReview(seed));
      assert.deepEqual(Buffer.from(encodeReview(review)), Buffer.from(toBinary(ReviewSchema, review)), `seed ${seed}`);
    }
  });

  it("leaves reviews with unknown fields or negative numbers to toBinary, with the same bytes", () => {
    const withUnknown = fromBinary(ReviewSchema, Uint8Array.from([...toBinary(ReviewSchema, create(ReviewSchema, randomReview(7))), 0x50, 0x01]));
    assert.ok(withUnknown.$unknown?.length);
    const negative = create(ReviewSchema, randomReview(8));
    negative.starRating = -1;
    negative.updateTime = create(ReviewSchema, { updateTime: { seconds: -5n, nanos: 1 } }).updateTime;
    for (const review of [withUnknown, negative]) {
      assert.deepEqual(Buffer.from(encodeReview(review)), Buffer.from(toBinary(ReviewSchema, review)));
    }
  });

  it("encodes an event that decodes to the same ReviewEvent as toBinary of it whole", () => {
    for (let seed = 1; seed <= 300; seed++) {
      const next = rng(seed);
      const review = create(ReviewSchema, randomReview(seed));
      const head = {
        eventId: `${review.name}@v${seed}`,
        type: [ReviewEventType.CREATED, ReviewEventType.UPDATED, ReviewEventType.DELETED][seed % 3]!,
        jobId: next() < 0.9 ? "8c1d0a56-6c56-4b0f-9b53-8a1d3c1e2f00" : "",
        tenantId: next() < 0.5 ? "" : "4d3c2b1a-0000-4000-8000-000000000001",
        clientId: next() < 0.5 ? "" : text(next),
        locationId: "0b0e6a3c-1111-4000-8000-000000000002",
        previousUpdateTime: maybe(next, () => create(ReviewSchema, { updateTime: time(next) }).updateTime!),
        observeTime: create(ReviewSchema, { updateTime: time(next) }).updateTime!,
        version: seed,
        previousVersion: seed - 1,
      };
      const decoded = fromBinary(ReviewEventSchema, encodeEvent(head, encodeReview(review)));
      const expected = fromBinary(ReviewEventSchema, toBinary(ReviewEventSchema, create(ReviewEventSchema, { ...head, review })));
      assert.ok(equals(ReviewEventSchema, decoded, expected), `seed ${seed}`);
    }
  });
});
