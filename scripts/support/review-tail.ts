// A JetStream subscriber for the REVIEWS stream: ephemeral (an ordered consumer, nothing left
// behind on the server) or durable (a named consumer that remembers what it acknowledged, so a
// restart resumes where it stopped). Used by `npm run reviews:tail`, the drills and the tests.
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type ConsumerMessages } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { ReviewEventSchema, type ReviewEvent } from "../../gen/reviewflow/reviews/v1/events_pb.js";
import { decodeMessage } from "../../lib/nats/codec.js";
import type { StreamNames } from "../../lib/nats/names.js";

export interface ReviewTailOptions {
  connection: NatsConnection;
  names: StreamNames;
  /** A durable consumer name; omitted = ephemeral. */
  durable?: string;
  /** Start at the first stored event instead of new ones only (a durable that exists keeps its position). */
  fromStart?: boolean;
  /** A subject filter inside REVIEWS, e.g. `reviews.<client_id>.>`; the namespace prefix is added when missing. */
  subject?: string;
  /** Called once per event, in stream order; a durable acknowledges after it returns. */
  onEvent: (event: ReviewEvent, meta: { subject: string; seq: number; redelivered: boolean }) => void | Promise<void>;
  /** Called for a message that is not a ReviewEvent (it is acknowledged and skipped). */
  onBadMessage?: (subject: string, error: Error) => void;
}

export interface ReviewTail {
  /** Stops consuming; a durable consumer stays on the server for next time. */
  stop(): Promise<void>;
  /** Resolves when consuming ended (stop, or the connection closed). */
  done: Promise<void>;
}

function filterSubject(names: StreamNames, subject: string | undefined): string {
  if (!subject) return names.reviews.all;
  const prefix = names.namespace ? `${names.namespace}.` : "";
  return prefix && !subject.startsWith(prefix) ? `${prefix}${subject}` : subject;
}

export async function tailReviews(options: ReviewTailOptions): Promise<ReviewTail> {
  const js = jetstream(options.connection);
  const stream = options.names.reviews.stream;
  const filter = filterSubject(options.names, options.subject);
  const deliverPolicy = options.fromStart ? DeliverPolicy.All : DeliverPolicy.New;
  let consumer;
  if (options.durable) {
    const jsm = await jetstreamManager(options.connection);
    const exists = await jsm.consumers.info(stream, options.durable).then(
      () => true,
      () => false,
    );
    // an existing durable keeps its position: that is what makes it durable
    if (!exists) {
      await jsm.consumers.add(stream, {
        durable_name: options.durable,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: deliverPolicy,
        filter_subject: filter,
      });
    }
    consumer = await js.consumers.get(stream, options.durable);
  } else {
    consumer = await js.consumers.get(stream, { filter_subjects: filter, deliver_policy: deliverPolicy });
  }
  const messages: ConsumerMessages = await consumer.consume({ max_messages: 256 });
  const done = (async () => {
    for await (const msg of messages) {
      let event: ReviewEvent;
      try {
        event = decodeMessage(ReviewEventSchema, msg.data, msg.headers);
      } catch (err) {
        options.onBadMessage?.(msg.subject, err as Error);
        if (options.durable) msg.ack();
        continue;
      }
      await options.onEvent(event, { subject: msg.subject, seq: msg.seq, redelivered: msg.redelivered });
      if (options.durable) msg.ack();
    }
  })();
  return {
    async stop() {
      await messages.close();
      await done.catch(() => undefined);
    },
    done,
  };
}
