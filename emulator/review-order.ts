// v4 review ordering and keyset paging. Paging continues after the last review served (by its
// sort key), not from an offset: a review edited between two pages jumps to the top and is
// picked up by the next fetch instead of shifting every later page by one (no duplicates).
import type { ReviewRec } from "./model.js";

/** The only orders v4 documents: "Valid orders to sort by are rating, rating desc and updateTime desc". */
export type ReviewOrder = "updateTime desc" | "rating" | "rating desc";

const ALIASES: Readonly<Record<string, ReviewOrder>> = {
  "updatetime desc": "updateTime desc",
  "update_time desc": "updateTime desc",
  rating: "rating",
  "rating asc": "rating",
  "rating desc": "rating desc",
};

/** Default `updateTime desc`; undefined for anything else (the caller answers 400). */
export function parseReviewOrder(raw: string | undefined): ReviewOrder | undefined {
  if (raw === undefined || raw.trim() === "") return "updateTime desc";
  return ALIASES[raw.trim().replace(/\s+/g, " ").toLowerCase()];
}

/** The sort key a page token remembers. */
export interface ReviewCursor {
  r: number;
  u: number;
  n: string;
}

export function cursorOf(review: ReviewRec): ReviewCursor {
  return { r: review.rating, u: review.updateMs, n: review.name };
}

/** Total order: the requested key, then newest first, then name, so paging is stable. */
export function compareKeys(order: ReviewOrder, a: ReviewCursor, b: ReviewCursor): number {
  if (order === "rating" && a.r !== b.r) return a.r - b.r;
  if (order === "rating desc" && a.r !== b.r) return b.r - a.r;
  if (a.u !== b.u) return b.u - a.u;
  return a.n < b.n ? -1 : a.n > b.n ? 1 : 0;
}

export function sortReviews(reviews: Iterable<ReviewRec>, order: ReviewOrder): ReviewRec[] {
  const keyed = Array.from(reviews, (r) => ({ r, k: cursorOf(r) }));
  keyed.sort((x, y) => compareKeys(order, x.k, y.k));
  return keyed.map((x) => x.r);
}

/** Index of the first review that sorts after `cursor` (binary search). */
export function indexAfter(sorted: readonly ReviewRec[], order: ReviewOrder, cursor: ReviewCursor): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareKeys(order, cursorOf(sorted[mid] as ReviewRec), cursor) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
