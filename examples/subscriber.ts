// A minimal REVIEWS subscriber to copy into your own service. It needs only the NATS client and
// the generated ReviewEvent type:
//
//   npm install @nats-io/transport-node @nats-io/jetstream @bufbuild/protobuf
//   # and generate TypeScript from proto/reviewflow/reviews/v1/*.proto (buf generate), or copy
//   # gen/reviewflow/reviews/v1/ from this repository
//
// Run it here with:  node --import tsx examples/subscriber.ts
// (NATS_URL defaults to nats://127.0.0.1:4222; set NATS_NAMESPACE only for test/drill namespaces.)
import { fromBinary } from "@bufbuild/protobuf";
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { ReviewEventSchema, ReviewEventType } from "../gen/reviewflow/reviews/v1/events_pb.js";

const url = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
const ns = process.env.NATS_NAMESPACE ?? "";
const stream = ns ? `${ns}_REVIEWS` : "REVIEWS";
// Subjects are `reviews.<client_id>.<location_id>`: narrow this to one client with `reviews.<id>.>`.
const subject = ns ? `${ns}.reviews.>` : "reviews.>";
// A durable consumer remembers what you acknowledged: restart this program and it resumes where
// it stopped, never skipping an event. Give each application its own name.
const durable = process.env.CONSUMER_NAME ?? "example-subscriber";

const nc = await connect({ servers: url, maxReconnectAttempts: -1 });
const jsm = await jetstreamManager(nc);
try {
  await jsm.consumers.info(stream, durable);
} catch {
  // First run: create the consumer. DeliverPolicy.All starts at the oldest stored event
  // (REVIEWS keeps 30 days); use DeliverPolicy.New to see only what happens from now on.
  await jsm.consumers.add(stream, { durable_name: durable, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, filter_subject: subject });
}

const consumer = await jetstream(nc).consumers.get(stream, durable);
const messages = await consumer.consume();
process.once("SIGINT", () => void messages.close().then(() => nc.close()));
console.error(`listening on ${stream} as ${durable}; Ctrl-C stops`);

for await (const msg of messages) {
  const event = fromBinary(ReviewEventSchema, msg.data);
  // Each change is published once (Nats-Msg-Id de-duplication), but JetStream delivers at least
  // once: if you crash before ack(), the event comes again. Make your handling idempotent with
  // event.eventId (`<review name>@<update time>`).
  const kind = ReviewEventType[event.type]; // CREATED, UPDATED or DELETED
  console.log(`${kind} ${event.review?.starRating ?? 0}★ ${event.review?.name}: ${event.review?.comment ?? "(no text)"}`);
  // the whole event as JSON: toJson(ReviewEventSchema, event) from @bufbuild/protobuf
  msg.ack(); // only after your side effect succeeded
}
