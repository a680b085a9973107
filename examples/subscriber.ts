// A minimal REVIEWS subscriber to copy into your own service. It needs only the NATS client and
// the generated ReviewEvent type:
//
//   npm install @nats-io/transport-node @nats-io/jetstream @bufbuild/protobuf
//   # and generate TypeScript from proto/reviewflow/reviews/v1/*.proto (buf generate), or copy
//   # gen/reviewflow/reviews/v1/ from this repository
//
// Run it here with:  node --import tsx examples/subscriber.ts
// (NATS_URL defaults to nats://127.0.0.1:4222 and may list a cluster's servers, comma-separated;
// set NATS_NAMESPACE only where the deployment sets one: then its stream is <namespace>_REVIEWS.)
//
// The recipe: every change of a review carries the review's next version (1, 2, 3 ...). Keep the
// highest version you hold per review, ignore an event whose version is not higher, and drop a
// DELETED review from your live view (but remember its version). Replaying the stream from its
// start this way leaves you holding what Google holds now, for every review whose latest event
// the stream still holds (REVIEWS keeps 30 days).
import { fromBinary } from "@bufbuild/protobuf";
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { ReviewEventSchema, ReviewEventType, type ReviewEvent } from "../gen/reviewflow/reviews/v1/events_pb.js";
import type { Review } from "../gen/reviewflow/reviews/v1/review_pb.js";

const url = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
const ns = process.env.NATS_NAMESPACE ?? "";
const stream = ns ? `${ns}_REVIEWS` : "REVIEWS";
// Subjects are `reviews.<client_id>.<location_id>`: narrow this to one client with `reviews.<id>.>`.
const subject = ns ? `${ns}.reviews.>` : "reviews.>";
// A durable consumer remembers what you acknowledged: restart this program and it resumes where
// it stopped, never skipping an event. Give each application its own name.
const durable = process.env.CONSUMER_NAME ?? "example-subscriber";

/**
 * What you hold of one review: the highest version seen, and its content (undefined once
 * deleted: the version stays, so an older event that comes again cannot bring the review back).
 * This example keeps it in memory. Your service keeps it where its side effects land, written in
 * the same transaction, e.g. in SQL:
 *   INSERT INTO my_reviews (scope, name, version, deleted, review) VALUES ($1, $2, $3, $4, $5)
 *   ON CONFLICT (scope, name) DO UPDATE SET version = EXCLUDED.version, deleted = EXCLUDED.deleted,
 *     review = EXCLUDED.review WHERE my_reviews.version < EXCLUDED.version
 */
interface Held {
  version: number;
  review?: Review;
}
const held = new Map<string, Held>();

/**
 * A review's key: its Google name within the subject's client token. Two reviewflow clients that
 * reach the same Google location each get their own events, with their own versions.
 */
function keyOf(msgSubject: string, event: ReviewEvent): string {
  const tokens = msgSubject.split("."); // [<namespace>.]reviews.<client token>.<location id>
  return `${tokens[tokens.length - 2]}/${event.review?.name ?? ""}`;
}

/** Applies one event; false when it is not newer than what is held (a redelivery or a replay). */
function apply(key: string, event: ReviewEvent): boolean {
  const before = held.get(key);
  // events published before reviewflow numbered versions carry version 0: among themselves they
  // apply in stream order, and never over a numbered version
  if (before && (event.version < before.version || (event.version === before.version && event.version > 0))) return false;
  held.set(key, { version: event.version, review: event.type === ReviewEventType.DELETED ? undefined : event.review });
  return true;
}

const nc = await connect({ servers: url.split(",").map((s) => s.trim()), maxReconnectAttempts: -1 });
const jsm = await jetstreamManager(nc);
try {
  await jsm.consumers.info(stream, durable);
} catch {
  // First run: create the consumer. DeliverPolicy.All starts at the oldest stored event
  // (REVIEWS keeps 30 days); use DeliverPolicy.New to see only what happens from now on.
  await jsm.consumers.add(stream, {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: subject,
  });
}

const consumer = await jetstream(nc).consumers.get(stream, durable);
const messages = await consumer.consume();
process.once("SIGINT", () => {
  const live = [...held.values()].filter((h) => h.review).length;
  console.error(`live view: ${live} reviews (${held.size - live} deleted)`);
  void messages.close().then(() => nc.close());
});
console.error(`listening on ${stream} as ${durable}; Ctrl-C stops`);

for await (const msg of messages) {
  const event = fromBinary(ReviewEventSchema, msg.data);
  // One review's events reach the stream in version order (different reviews interleave), and
  // each change is published once. But JetStream delivers at least once: if you crash before
  // ack(), an event comes again, possibly after a later one. The version check makes that
  // harmless; event.eventId (`<review name>@v<version>`) names the change.
  if (apply(keyOf(msg.subject, event), event)) {
    const kind = ReviewEventType[event.type]; // CREATED, UPDATED or DELETED
    const text = event.review?.comment?.replace(/\s+/g, " ") || "(no text)";
    console.log(`${kind} ${event.review?.starRating ?? 0}★ ${event.review?.name} v${event.version}: ${text}`);
    // the whole event as JSON: toJson(ReviewEventSchema, event) from @bufbuild/protobuf
  } else {
    console.log(`ignored ${event.eventId} (holding v${held.get(keyOf(msg.subject, event))!.version})`);
  }
  msg.ack(); // only after your side effect succeeded
}
