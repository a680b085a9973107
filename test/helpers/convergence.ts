import assert from "node:assert/strict";
import { equals } from "@bufbuild/protobuf";
import { ReviewEventType, type ReviewEvent } from "../../gen/reviewflow/reviews/v1/events_pb.js";
import { ReviewSchema, type Review } from "../../gen/reviewflow/reviews/v1/review_pb.js";
import { createGoogleReviewSource } from "../../lib/google/index.js";
import type { GoogleEndpoints } from "../../lib/config/index.js";

/**
 * What a subscriber that follows the README's recipe holds after replaying REVIEWS: the highest
 * version of each review, deleted ones dropped. Checks the stream's own promises on the way:
 * every event once, one review's versions in increasing order, and no event that changes nothing.
 */
export function replay(
  events: ReviewEvent[],
  clientId: string,
): { live: Map<string, Review>; deletedEvents: string[]; spurious: string[] } {
  const latest = new Map<string, ReviewEvent>();
  const ids = new Set<string>();
  const spurious: string[] = [];
  const deletedEvents: string[] = [];
  for (const event of events) {
    if (event.clientId !== clientId) continue;
    assert.ok(!ids.has(event.eventId), `event ${event.eventId} published twice`);
    ids.add(event.eventId);
    const name = event.review!.name;
    assert.equal(event.eventId, `${name}@v${event.version}`);
    const before = latest.get(name);
    assert.ok(!before || event.version > before.version, `${name}: v${event.version} after v${before?.version}`);
    assert.equal(event.previousVersion, event.version - 1);
    if (
      before &&
      before.type !== ReviewEventType.DELETED &&
      event.type !== ReviewEventType.DELETED &&
      equals(ReviewSchema, before.review!, event.review!)
    ) {
      spurious.push(event.eventId);
    }
    if (event.type === ReviewEventType.DELETED) deletedEvents.push(name);
    latest.set(name, event);
  }
  const live = new Map<string, Review>();
  for (const [name, event] of latest) if (event.type !== ReviewEventType.DELETED) live.set(name, event.review!);
  return { live, deletedEvents, spurious };
}

/** Every review Google (the emulator) holds for a grant, read through the product's own adapter. */
export async function googleTruth(endpoints: GoogleEndpoints, accessToken: string): Promise<Map<string, Review>> {
  const source = createGoogleReviewSource({ endpoints });
  const truth = new Map<string, Review>();
  const pages = async <T>(list: (pageToken?: string) => Promise<{ items: T[]; nextPageToken?: string }>) => {
    const out: T[] = [];
    let token: string | undefined;
    do {
      const page = await list(token);
      out.push(...page.items);
      token = page.nextPageToken;
    } while (token);
    return out;
  };
  for (const account of await pages((pageToken) => source.listAccounts(accessToken, { pageToken }))) {
    for (const location of await pages((pageToken) => source.listLocations(accessToken, account.name, { pageToken }))) {
      for (const review of await pages((pageToken) => source.listReviews(accessToken, location.name, { pageToken })))
        truth.set(review.name, review);
    }
  }
  return truth;
}

/**
 * Asserts that the subscriber's state equals Google's: the same reviews with the same content,
 * no deletion of a review the test did not delete, no event that changed nothing.
 */
export function assertConverged(state: ReturnType<typeof replay>, truth: Map<string, Review>, deletedAtGoogle: Set<string>): void {
  const missing = [...truth.keys()].filter((name) => !state.live.has(name));
  const extra = [...state.live.keys()].filter((name) => !truth.has(name));
  const differ = [...truth]
    .filter(([name, review]) => state.live.has(name) && !equals(ReviewSchema, state.live.get(name)!, review))
    .map(([name]) => name);
  const falseDeletes = state.deletedEvents.filter((name) => !deletedAtGoogle.has(name));
  assert.deepEqual(
    {
      missing: missing.length,
      extra: extra.length,
      differ: differ.length,
      falseDeletes: falseDeletes.length,
      spurious: state.spurious.length,
    },
    { missing: 0, extra: 0, differ: 0, falseDeletes: 0, spurious: 0 },
    `missing ${missing.slice(0, 3)}; extra ${extra.slice(0, 3)}; differ ${differ.slice(0, 3)}; false deletes ${falseDeletes.slice(0, 3)}; spurious ${state.spurious.slice(0, 3)}`,
  );
}
