// What a REVIEWS subscriber receives, counted: every message, distinct event ids and distinct
// review names. Read from the start of the stream after a run, it is the ground truth a drill
// compares with what Google holds.
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { ReviewEventType, type ReviewEvent } from "../../gen/reviewflow/reviews/v1/events_pb.js";
import type { StreamNames } from "../../lib/nats/names.js";
import { tailReviews } from "../../scripts/support/review-tail.js";

export interface ReviewTally {
  /** Messages received. */
  total: number;
  /** Distinct event ids (`<review name>@v<version>`). */
  uniqueEvents: number;
  /** Distinct reviews with a CREATED event. */
  uniqueCreated: number;
  /** The review names seen, for the lost-review check. */
  reviewNames: Set<string>;
  /** Every event read, in stream order (for a comparison with Google's state: google-truth.ts). */
  events: ReviewEvent[];
}

/** Messages the REVIEWS stream holds right now. */
export async function reviewsStored(connection: NatsConnection, names: StreamNames): Promise<number> {
  const jsm = await jetstreamManager(connection);
  const info = await jsm.streams.info(names.reviews.stream);
  return info.state.messages;
}

/** Subscribes from the first stored event and counts until it has read everything stored. */
export async function readAllReviews(
  connection: NatsConnection,
  names: StreamNames,
  timeoutMs = 30_000,
  clientId?: string,
): Promise<ReviewTally> {
  const jsm = await jetstreamManager(connection);
  const lastSeq = (await jsm.streams.info(names.reviews.stream)).state.last_seq;
  const tally: ReviewTally = { total: 0, uniqueEvents: 0, uniqueCreated: 0, reviewNames: new Set(), events: [] };
  if (lastSeq === 0) return tally;
  const events = new Set<string>();
  const created = new Set<string>();
  let finish: () => void = () => undefined;
  const reachedEnd = new Promise<void>((resolve) => (finish = resolve));
  const tail = await tailReviews({
    connection,
    names,
    fromStart: true,
    onEvent: (event, meta) => {
      if (meta.seq >= lastSeq) finish();
      // a shared REVIEWS stream (deployments on default settings) holds other clients' events too
      if (clientId !== undefined && event.clientId !== clientId) return;
      tally.total++;
      tally.events.push(event);
      events.add(event.eventId);
      const name = event.review?.name ?? "";
      tally.reviewNames.add(name);
      if (event.type === ReviewEventType.CREATED) created.add(name);
      if (meta.seq >= lastSeq) finish();
    },
  });
  const timer = setTimeout(finish, timeoutMs);
  await reachedEnd;
  clearTimeout(timer);
  await tail.stop();
  tally.uniqueEvents = events.size;
  tally.uniqueCreated = created.size;
  return tally;
}
