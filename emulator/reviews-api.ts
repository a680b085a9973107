// My Business v4 reviews (reference §1.3): reviews.list at most 50 a page, `updateTime desc` by
// default, averageRating and totalReviewCount for the whole location; reviews.get, one review or
// 404 NOT_FOUND once it is deleted; and batchGetReviews over up to 200 locations of one account,
// which costs one quota unit per call.
import type { IncomingMessage, ServerResponse } from "node:http";
import { admitApiCall } from "./api-gate.js";
import type { EmulatorContext } from "./context.js";
import { parseApiBody } from "./api-body.js";
import { readBody } from "./http-io.js";
import { type LocationRec, renderReview, type ReviewRec } from "./model.js";
import { decodePageToken, encodePageToken, fingerprint } from "./page-token.js";
import { bindQuery, isRpcError, parsePageSize } from "./query-params.js";
import { cursorOf, indexAfter, parseReviewOrder, type ReviewCursor, type ReviewOrder } from "./review-order.js";
import { invalidArgument, notFound, permissionDenied, type RpcError, sendApiJson, sendRpcError } from "./rpc-errors.js";

/** v4 documents a maximum of 50 and no default; the default here is the maximum. Larger values clamp. */
const REVIEWS_PAGE_MAX = 50;
const BATCH_LOCATION_MAX = 200;

function isCursor(p: unknown): p is ReviewCursor {
  const c = p as ReviewCursor;
  return typeof c === "object" && c !== null && typeof c.r === "number" && typeof c.u === "number" && typeof c.n === "string";
}

const badOrder = () => invalidArgument("order_by", "Valid orders are rating, rating desc and updateTime desc.");

/** One page of a sorted list after an optional cursor, skipping reviews `keep` rejects. */
function pageOf(
  sorted: readonly ReviewRec[],
  order: ReviewOrder,
  cursor: ReviewCursor | undefined,
  size: number,
  keep: (r: ReviewRec) => boolean,
) {
  const page: ReviewRec[] = [];
  let i = cursor ? indexAfter(sorted, order, cursor) : 0;
  for (; i < sorted.length && page.length < size; i++) if (keep(sorted[i] as ReviewRec)) page.push(sorted[i] as ReviewRec);
  while (i < sorted.length && !keep(sorted[i] as ReviewRec)) i++;
  const last = page[page.length - 1];
  return { page, next: i < sorted.length && last ? cursorOf(last) : undefined };
}

export async function listReviews(
  ctx: EmulatorContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  accountId: string,
  locationId: string,
): Promise<void> {
  const call = await admitApiCall(ctx, req, res, url, "reviews.list");
  if (!call) return;
  const bound = bindQuery(url, ["pageSize", "pageToken", "orderBy"]);
  if ("error" in bound) return sendRpcError(res, bound.error);
  const { params } = bound;

  const location = ctx.store.findLocation(accountId, locationId);
  if (!location) return sendRpcError(res, notFound());
  if (ctx.faults.forbidden("reviews.list", [location])) return sendRpcError(res, permissionDenied());
  const order = parseReviewOrder(params.get("orderBy"));
  if (!order) return sendRpcError(res, badOrder());
  const pageSize = parsePageSize(params.get("pageSize"), REVIEWS_PAGE_MAX, REVIEWS_PAGE_MAX);
  if (isRpcError(pageSize)) return sendRpcError(res, pageSize);

  const fp = fingerprint("reviews", call.project, location.parent, order);
  const token = params.get("pageToken");
  const cursor = token ? decodePageToken(token, fp, isCursor) : undefined;
  if (isRpcError(cursor)) return sendRpcError(res, cursor);

  const { page, next } = pageOf(ctx.store.sorted([location], order), order, cursor, pageSize, () => true);
  const { count, average } = ctx.store.ratingSummary(location);
  // proto3 JSON: an empty location answers {} (no zero averageRating or count).
  const body: Record<string, unknown> = {};
  if (page.length > 0) body.reviews = page.map(renderReview);
  if (count > 0) {
    // Google reports the average with one decimal (e.g. 4.3).
    body.averageRating = Math.round(average * 10) / 10;
    body.totalReviewCount = count;
  }
  if (next) body.nextPageToken = encodePageToken(fp, next);
  sendApiJson(res, body);
}

/**
 * reviews.get: one review in the same shape as an item of reviews.list. It passes the same gate
 * (auth, the project's mybusiness quota, faults under its own name "reviews.get") and the
 * location's 403 faults; an unknown location or review, deleted ones included, is Google's 404.
 */
export async function getReview(
  ctx: EmulatorContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  ids: { accountId: string; locationId: string; reviewId: string },
): Promise<void> {
  const call = await admitApiCall(ctx, req, res, url, "reviews.get");
  if (!call) return;
  const bound = bindQuery(url, []);
  if ("error" in bound) return sendRpcError(res, bound.error);

  const location = ctx.store.findLocation(ids.accountId, ids.locationId);
  if (!location) return sendRpcError(res, notFound());
  if (ctx.faults.forbidden("reviews.get", [location])) return sendRpcError(res, permissionDenied());
  const review = ctx.store.findReview(`${location.parent}/reviews/${ids.reviewId}`);
  if (!review) return sendRpcError(res, notFound());
  sendApiJson(res, renderReview(review));
}

const BATCH_FIELDS = new Map([
  ["locationNames", "locationNames"],
  ["location_names", "locationNames"],
  ["pageSize", "pageSize"],
  ["page_size", "pageSize"],
  ["pageToken", "pageToken"],
  ["page_token", "pageToken"],
  ["orderBy", "orderBy"],
  ["order_by", "orderBy"],
  ["ignoreRatingOnlyReviews", "ignoreRatingOnlyReviews"],
  ["ignore_rating_only_reviews", "ignoreRatingOnlyReviews"],
]);

export async function batchGetReviews(
  ctx: EmulatorContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  accountId: string,
): Promise<void> {
  const raw = await readBody(req);
  const call = await admitApiCall(ctx, req, res, url, "reviews.batchGet");
  if (!call) return;
  const bound = bindQuery(url, []);
  if ("error" in bound) return sendRpcError(res, bound.error);
  const fail = (err: RpcError) => sendRpcError(res, err);

  const parsed = parseApiBody(raw, BATCH_FIELDS);
  if ("error" in parsed) return fail(parsed.error);
  const { body } = parsed;

  if (!ctx.store.findAccount(accountId)) return fail(notFound());
  const names = body.locationNames;
  if (!Array.isArray(names) || names.length === 0 || !names.every((n) => typeof n === "string")) {
    return fail(invalidArgument("location_names", "At least one location name is required."));
  }
  if (names.length > BATCH_LOCATION_MAX)
    return fail(invalidArgument("location_names", `At most ${BATCH_LOCATION_MAX} location names per call.`));
  const locations: LocationRec[] = [];
  for (const name of new Set(names as string[])) {
    if (!name.startsWith(`accounts/${accountId}/locations/`))
      return fail(invalidArgument("location_names", `Location ${name} is not under accounts/${accountId}.`));
    const location = ctx.store.findLocationByParent(name);
    if (!location) return fail(notFound());
    locations.push(location);
  }
  if (ctx.faults.forbidden("reviews.batchGet", locations)) return fail(permissionDenied());

  const order = parseReviewOrder(typeof body.orderBy === "string" ? body.orderBy : body.orderBy === undefined ? undefined : "?");
  if (!order) return fail(badOrder());
  const pageSize = parsePageSize(body.pageSize as string | number | undefined, REVIEWS_PAGE_MAX, REVIEWS_PAGE_MAX);
  if (isRpcError(pageSize)) return fail(pageSize);
  const ignoreRatingOnly = body.ignoreRatingOnlyReviews === true;

  const fp = fingerprint("batch", call.project, locations.map((l) => l.id).join(","), order, ignoreRatingOnly);
  const token = typeof body.pageToken === "string" && body.pageToken !== "" ? body.pageToken : undefined;
  const cursor = token ? decodePageToken(token, fp, isCursor) : undefined;
  if (isRpcError(cursor)) return fail(cursor);

  const sorted = ctx.store.sorted(locations, order);
  const keep = ignoreRatingOnly ? (r: ReviewRec) => r.comment !== undefined : () => true;
  const { page, next } = pageOf(sorted, order, cursor, pageSize, keep);
  const locationOf = (r: ReviewRec) => r.name.slice(0, r.name.indexOf("/reviews/"));
  const out: Record<string, unknown> = {};
  if (page.length > 0) out.locationReviews = page.map((r) => ({ name: locationOf(r), review: renderReview(r) }));
  if (next) out.nextPageToken = encodePageToken(fp, next);
  sendApiJson(res, out);
}
