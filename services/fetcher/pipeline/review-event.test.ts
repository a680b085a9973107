import assert from "node:assert/strict";
import { create, equals, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { ReviewEventSchema, ReviewEventType } from "../../../gen/reviewflow/reviews/v1/events_pb.js";
import { ReviewSchema } from "../../../gen/reviewflow/reviews/v1/review_pb.js";
import { diffPage } from "./review-diff.js";
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
      const [change] = diffPage([review], new Map()).changes;
      const job = { id: "8c1d0a56-6c56-4b0f-9b53-8a1d3c1e2f00", tenant_id: null, client_id: null };
      const decoded = fromBinary(ReviewEventSchema, encodeReviewEvent(job, "loc-1", change));
      assert.equal(decoded.type, ReviewEventType.CREATED);
      assert.equal(decoded.eventId, "accounts/1/locations/2/reviews/r1@2023-11-14T22:13:20.123Z");
      assert.ok(equals(ReviewSchema, decoded.review!, review));
      const whole = fromBinary(ReviewEventSchema, toBinary(ReviewEventSchema, create(ReviewEventSchema, { ...decoded })));
      assert.ok(equals(ReviewEventSchema, whole, decoded));
    }
  });
});
