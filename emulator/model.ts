// In-memory records behind the API responses. Reviews are kept compact (numbers and shared
// strings) and rendered to Google's JSON only when served: the large seed can hold 150 000.
import type { ReviewJson, StarRating } from "./types.js";

export type Rating = 1 | 2 | 3 | 4 | 5;

export interface ReviewRec {
  /** accounts/A/locations/L/reviews/R */
  name: string;
  reviewId: string;
  rating: Rating;
  createMs: number;
  updateMs: number;
  anonymous: boolean;
  displayName?: string;
  comment?: string;
  reply?: { comment: string; updateMs: number };
}

export interface LocationRec {
  id: string;
  /** locations/L, as Business Information names it. */
  name: string;
  /** accounts/A/locations/L, the v4 review parent. */
  parent: string;
  accountId: string;
  title: string;
  storeCode: string;
  /** The full Location resource; readMask picks from it. */
  json: Record<string, unknown>;
  /** Position in the seed, which determines the review stream. */
  seedIndex: readonly [account: number, location: number];
  seededReviewCount: number;
  /** Materialised on first use. */
  reviews?: Map<string, ReviewRec>;
}

export interface AccountRec {
  id: string;
  name: string;
  accountName: string;
  type: string;
  json: Record<string, unknown>;
  locations: LocationRec[];
}

export const STAR_NAMES: Readonly<Record<Rating, StarRating>> = {
  1: "ONE",
  2: "TWO",
  3: "THREE",
  4: "FOUR",
  5: "FIVE",
};

export function ratingFromStar(star: StarRating): Rating {
  const entry = Object.entries(STAR_NAMES).find(([, name]) => name === star);
  if (!entry) throw new Error(`unknown star rating ${star}`);
  return Number(entry[0]) as Rating;
}

export function isStarRating(value: unknown): value is StarRating {
  return typeof value === "string" && Object.values(STAR_NAMES).includes(value as StarRating);
}

/** RFC 3339, Z-normalised, millisecond precision (Google emits 0, 3, 6 or 9 digits). */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/** A stable, plausible avatar URL derived from the review id, so it costs no memory. */
function photoUrl(reviewId: string): string {
  return `https://lh3.googleusercontent.com/a-/ALV-Uj${reviewId.slice(5, 45)}=s120-c-rp-mo-br100`;
}

/**
 * Google's wire form, in proto3 JSON: defaults are omitted, so a named reviewer has no
 * `isAnonymous`, an anonymous one has neither name nor photo, a rating-only review no comment.
 */
export function renderReview(r: ReviewRec): ReviewJson {
  // Built in Google's field order: name, reviewId, reviewer, starRating, comment, times, reply.
  const out: ReviewJson = {
    name: r.name,
    reviewId: r.reviewId,
    reviewer: r.anonymous ? { isAnonymous: true } : { profilePhotoUrl: photoUrl(r.reviewId), displayName: r.displayName ?? "" },
    starRating: STAR_NAMES[r.rating],
    ...(r.comment !== undefined ? { comment: r.comment } : {}),
    createTime: isoTime(r.createMs),
    updateTime: isoTime(r.updateMs),
  };
  if (r.reply) out.reviewReply = { comment: r.reply.comment, updateTime: isoTime(r.reply.updateMs) };
  return out;
}
