import { fromBinary } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { callerOf, tenantScope } from "../../../lib/auth/index.js";
import { isUuid } from "../../../lib/db/index.js";
import { InvalidArgumentError, NotFoundError } from "../../../lib/errors/index.js";
import type { ReviewFetcher } from "../../../gen/reviewflow/fetcher/v1/fetcher_pb.js";
import { ReviewEventType } from "../../../gen/reviewflow/reviews/v1/events_pb.js";
import { ReviewSchema } from "../../../gen/reviewflow/reviews/v1/review_pb.js";
import { listReviews, type ReviewListFilter } from "../store/review-list-store.js";
import { listReviewVersions } from "../store/review-version-store.js";
import type { HandlerDeps } from "./handler-deps.js";
import { decodePageToken, decodeVersionPageToken, encodePageToken, encodeVersionPageToken, pageSize } from "./page-token.js";
import { visibleClient } from "./visibility.js";

const VERSION_TYPES = { created: ReviewEventType.CREATED, updated: ReviewEventType.UPDATED, deleted: ReviewEventType.DELETED } as const;

/**
 * ListReviews: stored, not deleted reviews the caller's tenant owns, most recently updated first.
 * ListReviewVersions: one review's kept versions, oldest first.
 */
export function reviewHandlers(deps: HandlerDeps): Pick<ServiceImpl<typeof ReviewFetcher>, "listReviews" | "listReviewVersions"> {
  return {
    async listReviews(req, ctx) {
      const caller = callerOf(ctx);
      const limit = pageSize(req.pageSize);
      const after = decodePageToken(req.pageToken, "bigint");
      // filtering by another tenant's client is NOT_FOUND, as GET /clients/{id} would be
      if (req.clientId) await visibleClient(deps, caller, req.clientId);
      const rows = await listReviews(deps.db, {
        tenantId: tenantScope(caller),
        clientId: req.clientId || undefined,
        location: req.locationId ? locationOf(req.locationId) : undefined,
        updatedAfter: req.updatedAfter ? timestampDate(req.updatedAfter) : undefined,
        minRating: req.minRating,
        after: after ? { time: after.t, id: after.i } : undefined,
        limit: limit + 1,
      });
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        reviews: page.map((row) => ({
          review: fromBinary(ReviewSchema, row.review_pb),
          locationId: row.location_id,
          clientId: row.client_id ?? "",
          firstSeenTime: timestampFromDate(row.first_seen_at),
          lastSeenTime: timestampFromDate(row.last_seen_at),
        })),
        nextPageToken: rows.length > limit && last ? encodePageToken({ t: last.cursor_time, i: last.id }) : "",
      };
    },

    async listReviewVersions(req, ctx) {
      const caller = callerOf(ctx);
      const limit = pageSize(req.pageSize);
      const after = decodeVersionPageToken(req.pageToken);
      const page = await listReviewVersions(deps.db, {
        name: req.name,
        tenantId: tenantScope(caller),
        clientId: req.clientId || undefined,
        reviewId: after?.r,
        afterVersion: after?.v ?? 0,
        limit: limit + 1,
      });
      // another tenant's review answers exactly as a missing one
      if (!page) throw new NotFoundError("review", req.name);
      if (after && page.review.id !== after.r) throw new InvalidArgumentError("page_token was returned for another review or client");
      const versions = page.versions.slice(0, limit);
      const last = versions[versions.length - 1];
      return {
        versions: versions.map((row) => ({
          version: row.version,
          type: VERSION_TYPES[row.type],
          review: fromBinary(ReviewSchema, row.review_pb),
          locationId: page.review.locationId,
          clientId: page.review.clientId ?? "",
          jobId: row.job_id ?? "",
          observeTime: timestampFromDate(row.observed_at),
          publishTime: row.published_at ? timestampFromDate(row.published_at) : undefined,
        })),
        nextPageToken: page.versions.length > limit && last ? encodeVersionPageToken({ r: page.review.id, v: last.version }) : "",
      };
    },
  };
}

/** A location asked for by reviewflow's location id, Google's full name, or Google's bare location id. */
function locationOf(locationId: string): ReviewListFilter["location"] {
  if (isUuid(locationId)) return { id: locationId };
  return locationId.includes("/") ? { googleName: locationId } : { googleId: locationId };
}
