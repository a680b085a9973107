import assert from "node:assert/strict";
import { decodeNotification, decodePushBody, NotificationError } from "./review-notification.js";

const L = "accounts/1/locations/2";
const R = `${L}/reviews/abc`;
const b64 = (v: unknown) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64");

describe("lib/google review notification decoder", () => {
  it("accepts Google's observed shape and the documented spellings alike", () => {
    for (const data of [
      { type: "UPDATED_REVIEW", location: L, review: R },
      { notificationType: "UPDATED_REVIEW", locationName: L, reviewName: R },
      { type: "UPDATED_REVIEW", location_name: L, review_name: R },
      { type: "UPDATED_REVIEW", review: R },
    ]) {
      const n = decodePushBody({
        message: { data: b64(data), message_id: "42", publish_time: "2026-09-29T19:13:55.749Z" },
        subscription: "projects/p/subscriptions/s",
      });
      assert.deepEqual(n, {
        messageId: "42",
        type: "UPDATED_REVIEW",
        locationName: L,
        reviewName: R,
        publishTime: new Date("2026-09-29T19:13:55.749Z"),
      });
    }
  });

  it("refuses what cannot be acted on with a reason, and tells other types from malformed ones", () => {
    const kind = (body: unknown) => {
      try {
        decodePushBody(body);
        return "ok";
      } catch (err) {
        assert.ok(err instanceof NotificationError);
        return err.kind;
      }
    };
    assert.equal(kind({ message: { data: b64({ type: "GOOGLE_UPDATE", location: L }), messageId: "1" } }), "ignored");
    assert.equal(kind({ message: { data: b64("not json"), messageId: "1" } }), "malformed");
    assert.equal(kind({ message: { data: b64({ type: "NEW_REVIEW", review: R }) } }), "malformed");
    assert.equal(kind({ message: { data: b64({ type: "NEW_REVIEW", review: "reviews/x" }), messageId: "1" } }), "malformed");
    assert.equal(
      kind({ message: { data: b64({ type: "NEW_REVIEW", location: "accounts/1/locations/9", review: R }), messageId: "1" } }),
      "malformed",
    );
    assert.equal(kind({ message: { data: 7, messageId: "1" } }), "malformed");
    assert.equal(kind({}), "malformed");
    assert.equal(kind(null), "malformed");
    assert.equal(
      decodeNotification({ messageId: "1", data: Buffer.from(JSON.stringify({ type: "NEW_REVIEW", review: R })) }).publishTime,
      undefined,
    );
  });
});
