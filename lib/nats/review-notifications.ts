import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { PubAck } from "@nats-io/jetstream";
import { ReviewNotificationSchema } from "../../gen/reviewflow/reviews/v1/tasks_pb.js";
import type { DecodedNotification } from "../google/review-notification.js";
import { publishMessage } from "./codec.js";
import type { Nats } from "./connection.js";

/**
 * How both receivers hand a decoded notification on: onto FETCH's `fetch.notifications`, under
 * Nats-Msg-Id = the Pub/Sub messageId (JetStream drops a redelivery inside FETCH's duplicate
 * window; the fetcher's table catches later ones). The receiver acknowledges Pub/Sub only after
 * this resolves, so a notification is never lost between the two.
 */
export async function handOnNotification(
  nats: Pick<Nats, "publisher" | "names">,
  n: DecodedNotification,
  receiver: "push" | "pull",
): Promise<PubAck> {
  return publishMessage(
    nats.publisher,
    nats.names.fetch.notifications.subject,
    ReviewNotificationSchema,
    {
      messageId: n.messageId,
      type: n.type,
      locationName: n.locationName,
      reviewName: n.reviewName,
      publishTime: n.publishTime ? timestampFromDate(n.publishTime) : undefined,
      receiver,
    },
    { msgID: `notification:${n.messageId}`, timeoutMs: 5_000 },
  );
}
