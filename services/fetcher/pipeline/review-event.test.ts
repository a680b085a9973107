import assert from "node:assert/strict";
import { create, equals, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { ReviewEventSchema, ReviewEventType } from "../../../gen/reviewflow/reviews/v1/events_pb.js";
import { ReviewSchema } from "../../../gen/reviewflow/reviews/v1/review_pb.js";
import { encodeReviewEvent } from "./review-event.js";

describe("review events on the wire", () => {
  it("decode to the same ReviewEvent as encoding it whole, for short and long reviews", () => {
    for (const comment of ["ok", "x".repeat(200_000)]) {
      const review = create(ReviewSchema, {
        name: "accounts/1/locations/2/reviews/r1",
        reviewId: "r1",
        starRating: 4,
        comment,
        updateTime: timestampFromMs(1_700_000_000_123),
        reviewer: { displayName: "Ada", isAnonymous: false },
        locationName: "accounts/1/locations/2",
      });
      const event = {
        scopeKey: "client-1",
        locationId: "loc-1",
        jobId: "8c1d0a56-6c56-4b0f-9b53-8a1d3c1e2f00",
        tenantId: null,
        clientId: null,
        name: review.name,
        version: 3,
        type: ReviewEventType.UPDATED,
        reviewPb: toBinary(ReviewSchema, review),
      };
      const decoded = fromBinary(ReviewEventSchema, encodeReviewEvent(event));
      assert.equal(decoded.type, ReviewEventType.UPDATED);
      assert.equal(decoded.eventId, "accounts/1/locations/2/reviews/r1@v3");
      assert.equal(decoded.version, 3);
      assert.equal(decoded.previousVersion, 2);
      assert.ok(equals(ReviewSchema, decoded.review!, review));
      const whole = fromBinary(ReviewEventSchema, toBinary(ReviewEventSchema, create(ReviewEventSchema, { ...decoded })));
      assert.ok(equals(ReviewEventSchema, whole, decoded));
    }
  });

  it("are byte for byte what encoding the whole message writes, event after event through the one writer", () => {
    const review = create(ReviewSchema, {
      name: "accounts/1/locations/2/reviews/r9",
      reviewId: "r9",
      starRating: 5,
      comment: "é ✓ long ".repeat(300),
    });
    const events = [
      { tenantId: "t-1", clientId: "c-1", version: 1, type: ReviewEventType.CREATED, previousUpdateTime: undefined },
      { tenantId: null, clientId: null, version: 7, type: ReviewEventType.DELETED, previousUpdateTime: timestampFromMs(1_700_000_000_001) },
      { tenantId: "t-1", clientId: "", version: 2, type: ReviewEventType.UPDATED, previousUpdateTime: timestampFromMs(0) },
    ];
    for (const e of events) {
      const bytes = encodeReviewEvent({
        ...e,
        scopeKey: "client-1",
        locationId: "loc-1",
        jobId: "",
        name: review.name,
        reviewPb: toBinary(ReviewSchema, review),
      });
      const decoded = fromBinary(ReviewEventSchema, bytes);
      assert.deepEqual(bytes, toBinary(ReviewEventSchema, decoded));
      assert.equal(decoded.tenantId, e.tenantId ?? "");
      assert.equal(decoded.previousVersion, e.version - 1);
      assert.ok(equals(ReviewSchema, decoded.review!, review));
    }
  });
});
