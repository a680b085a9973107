// The emulator's business data: seeded accounts and locations, lazily generated reviews, and
// the edits tests make between fetches.
import { type AccountRec, type LocationRec, ratingFromStar, type ReviewRec, renderReview } from "./model.js";
import { BASE64URL, mixSeed, mulberry32, pick, randomChars } from "./prng.js";
import { type ReviewOrder, sortReviews } from "./review-order.js";
import { generateAccounts, generateReviews, SEED_ANCHOR_MS } from "./seed-generator.js";
import type { ResolvedSeed } from "./seed-spec.js";
import { FIRST_NAMES, LAST_NAMES } from "./seed-vocabulary.js";
import { ControlError, type DataSummary, type ReviewAdd, type ReviewEdit, type ReviewJson } from "./types.js";

export interface ReviewStore {
  readonly accounts: readonly AccountRec[];
  findAccount(accountId: string): AccountRec | undefined;
  findLocation(accountId: string, locationId: string): LocationRec | undefined;
  /** "accounts/A/locations/L". */
  findLocationByParent(parent: string): LocationRec | undefined;
  /** Reviews of several locations merged in `order`; cached until the next edit. */
  sorted(locations: readonly LocationRec[], order: ReviewOrder): readonly ReviewRec[];
  /** Count and average rating of a whole location. */
  ratingSummary(location: LocationRec): { count: number; average: number };
  /** One review by its full name; undefined when there is none (never was, or deleted). */
  findReview(name: string): ReviewRec | undefined;
  editReview(edit: ReviewEdit): ReviewJson;
  addReview(add: ReviewAdd): ReviewJson;
  deleteReview(name: string): void;
  summary(): DataSummary;
}

const SORT_CACHE_LIMIT = 64;

export function createReviewStore(seed: ResolvedSeed, now: () => number): ReviewStore {
  const accounts = generateAccounts(seed);
  const accountById = new Map(accounts.map((a) => [a.id, a]));
  const locationByParent = new Map<string, LocationRec>();
  for (const account of accounts) for (const loc of account.locations) locationByParent.set(loc.parent, loc);

  // Reviews added through the control API draw ids and names from their own deterministic stream.
  const addRng = mulberry32(mixSeed(seed.seed, 4));
  const sortCache = new Map<string, readonly ReviewRec[]>();
  // Starts at the seed anchor, so an edit is newer than every seeded review even under a test
  // clock set before the anchor.
  let lastStamp = SEED_ANCHOR_MS;

  function reviewsOf(location: LocationRec): Map<string, ReviewRec> {
    if (!location.reviews) {
      location.reviews = new Map(generateReviews(seed, location).map((r) => [r.name, r]));
    }
    return location.reviews;
  }

  /** Edits get strictly increasing times, so two edits never share an updateTime. */
  function stamp(): number {
    lastStamp = Math.max(now(), lastStamp + 1);
    return lastStamp;
  }

  function mutated(): void {
    sortCache.clear();
  }

  function lookup(name: string): { location: LocationRec; review: ReviewRec } | undefined {
    const match = /^(accounts\/[^/]+\/locations\/[^/]+)\/reviews\/[^/]+$/.exec(name ?? "");
    const location = match ? locationByParent.get(match[1] as string) : undefined;
    const review = location ? reviewsOf(location).get(name) : undefined;
    return location && review ? { location, review } : undefined;
  }

  /** For the controls: an unknown review is the caller's mistake, a 404. */
  function existing(name: string): { location: LocationRec; review: ReviewRec } {
    const found = lookup(name);
    if (!found) throw new ControlError(404, `review not found: ${name}`);
    return found;
  }

  return {
    accounts,
    findAccount: (accountId) => accountById.get(accountId),
    findLocation: (accountId, locationId) => locationByParent.get(`accounts/${accountId}/locations/${locationId}`),
    findLocationByParent: (parent) => locationByParent.get(parent),

    sorted(locations, order) {
      const key = `${order}|${locations.map((l) => l.id).join(",")}`;
      let list = sortCache.get(key);
      if (!list) {
        const all =
          locations.length === 1 ? reviewsOf(locations[0] as LocationRec).values() : locations.flatMap((l) => [...reviewsOf(l).values()]);
        list = sortReviews(all, order);
        if (sortCache.size >= SORT_CACHE_LIMIT) sortCache.clear();
        sortCache.set(key, list);
      }
      return list;
    },

    ratingSummary(location) {
      let sum = 0;
      const reviews = reviewsOf(location);
      for (const r of reviews.values()) sum += r.rating;
      return { count: reviews.size, average: reviews.size === 0 ? 0 : sum / reviews.size };
    },

    findReview: (name) => lookup(name)?.review,

    editReview(edit) {
      const { review } = existing(edit.name);
      const at = stamp();
      if (edit.starRating !== undefined) review.rating = ratingFromStar(edit.starRating);
      if (edit.comment === null) delete review.comment;
      else if (edit.comment !== undefined) review.comment = edit.comment;
      if (edit.reply === null) delete review.reply;
      else if (edit.reply !== undefined) review.reply = { comment: edit.reply, updateMs: at };
      if (!edit.keepUpdateTime) review.updateMs = at;
      mutated();
      return renderReview(review);
    },

    addReview(add) {
      const location = locationByParent.get(add.location);
      if (!location) throw new ControlError(404, `location not found: ${add.location}`);
      // A deleted review is gone from the map, so only a live one conflicts.
      if (add.reviewId !== undefined && reviewsOf(location).has(`${location.parent}/reviews/${add.reviewId}`)) {
        throw new ControlError(409, `review already exists: ${location.parent}/reviews/${add.reviewId}`);
      }
      // A random id is drawn even when one is given, so naming an id never shifts the ids (and
      // reviewer names) of later additions.
      const drawn = `AbFvO${randomChars(addRng, 47, BASE64URL)}`;
      const reviewId = add.reviewId ?? drawn;
      const name = `${location.parent}/reviews/${reviewId}`;
      const at = stamp();
      const anonymous = add.reviewer?.isAnonymous === true;
      const review: ReviewRec = {
        name,
        reviewId,
        rating: ratingFromStar(add.starRating ?? "FIVE"),
        createMs: at,
        updateMs: at,
        anonymous,
      };
      if (!anonymous) review.displayName = add.reviewer?.displayName ?? `${pick(addRng, FIRST_NAMES)} ${pick(addRng, LAST_NAMES)}`;
      if (add.comment !== undefined) review.comment = add.comment;
      if (add.reply !== undefined) review.reply = { comment: add.reply, updateMs: at };
      reviewsOf(location).set(review.name, review);
      mutated();
      return renderReview(review);
    },

    deleteReview(name) {
      const { location, review } = existing(name);
      reviewsOf(location).delete(review.name);
      mutated();
    },

    summary() {
      let totalReviews = 0;
      const summaryAccounts = accounts.map((account) => ({
        name: account.name,
        accountName: account.accountName,
        type: account.type,
        locations: account.locations.map((loc) => {
          // Counting needs no generation: untouched locations still hold their seeded count.
          const reviewCount = loc.reviews ? loc.reviews.size : loc.seededReviewCount;
          totalReviews += reviewCount;
          return { name: loc.name, parent: loc.parent, title: loc.title, reviewCount };
        }),
      }));
      return { accounts: summaryAccounts, totalReviews };
    },
  };
}
