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
});
