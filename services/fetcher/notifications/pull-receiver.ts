import { PubSub, type Message, type Subscription } from "@google-cloud/pubsub";
import type { NotificationsConfig } from "../../../lib/config/index.js";
import { decodeNotification, NotificationError } from "../../../lib/google/index.js";
import type { Logger } from "../../../lib/log/index.js";
import { handOnNotification, type Nats } from "../../../lib/nats/index.js";
import type { FetcherMetrics } from "../metrics.js";

export interface PullReceiver {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The pull receiver: a StreamingPull subscriber (Google's @google-cloud/pubsub) on
 * PUBSUB_SUBSCRIPTION, for deployments without a public push endpoint. Every message goes
 * through the same decoder as push and is handed on to FETCH under its messageId; it is acked
 * only after JetStream stored it (else nacked: Pub/Sub redelivers). An unreadable message, or
 * one of a type we do not act on, is acked and counted: redelivering it would never help. With
 * PUBSUB_EMULATOR_HOST the client talks to Google's Pub/Sub emulator instead.
 */
export function createPullReceiver(deps: {
  notifications: Readonly<NotificationsConfig>;
  nats: Nats;
  logger: Logger;
  metrics: FetcherMetrics;
}): PullReceiver {
  const { notifications, logger, metrics } = deps;
  const log = logger.child({ component: "pubsub-pull" });
  const count = (outcome: string) => metrics.notifications.inc({ receiver: "pull", outcome });
  let pubsub: PubSub | undefined;
  let subscription: Subscription | undefined;

  async function onMessage(message: Message): Promise<void> {
    let decoded;
    try {
      decoded = decodeNotification({
        messageId: message.id,
        data: message.data,
        publishTime: message.publishTime ? new Date(message.publishTime.getTime()) : undefined,
      });
    } catch (err) {
      const outcome = err instanceof NotificationError && err.kind === "ignored" ? "ignored" : "malformed";
      count(outcome);
      log.warn("pulled message acknowledged without action", { outcome, reason: (err as Error).message, message_id: message.id });
      message.ack();
      return;
    }
    try {
      const ack = await handOnNotification(deps.nats, decoded, "pull");
      count(ack.duplicate ? "duplicate" : "accepted");
      message.ack();
    } catch (err) {
      count("unavailable");
      log.warn("pulled notification not handed on; Pub/Sub redelivers", {
        message_id: message.id,
        err: String((err as Error)?.message ?? err),
      });
      message.nack();
    }
  }

  return {
    async start() {
      if (!notifications.subscription || subscription) return;
      const projectId = /^projects\/([^/]+)\//.exec(notifications.subscription)![1]!;
      pubsub = notifications.emulatorHost
        ? new PubSub({ projectId, apiEndpoint: notifications.emulatorHost, emulatorMode: true, universeDomain: "googleapis.com" })
        : new PubSub({ projectId });
      subscription = pubsub.subscription(notifications.subscription, { flowControl: { maxMessages: 100, allowExcessMessages: false } });
      subscription.on("message", (message: Message) => void onMessage(message));
      subscription.on("error", (err: Error) => log.warn("pull subscription error; the client reconnects", { err: err.message }));
      log.info("pulling review notifications", { subscription: notifications.subscription, emulator: Boolean(notifications.emulatorHost) });
    },
    async stop() {
      await subscription?.close().catch(() => undefined);
      subscription = undefined;
      await pubsub?.close().catch(() => undefined);
      pubsub = undefined;
    },
  };
}
