import { fromBinary } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { callerOf, tenantScope } from "../../../lib/auth/index.js";
import { InvalidArgumentError, NotFoundError } from "../../../lib/rpc/index.js";
import type { ReviewFetcher } from "../../../gen/reviewflow/fetcher/v1/fetcher_pb.js";
import { ReviewEventType } from "../../../gen/reviewflow/reviews/v1/events_pb.js";
import { ReviewSchema } from "../../../gen/reviewflow/reviews/v1/review_pb.js";
import { listReviewVersions } from "../store/review-version-store.js";
import type { HandlerDeps } from "./handler-deps.js";
import {
  BIGINT_PATTERN,
  decodePageToken,
  decodeVersionPageToken,
  encodePageToken,
  encodeVersionPageToken,
  pageSize,
  UUID_PATTERN,
} from "./page-token.js";

const VERSION_TYPES = { created: ReviewEventType.CREATED, updated: ReviewEventType.UPDATED, deleted: ReviewEventType.DELETED } as const;

interface ReviewListRow {
  id: string;
  review_pb: Buffer;
  location_id: string;
  client_id: string | null;
  first_seen_at: Date;
  last_seen_at: Date;
  cursor_time: string;
}

/**
 * ListReviews: stored, not deleted reviews the caller's tenant owns, most recently updated first.
 * ListReviewVersions: one review's kept versions, oldest first.
 */
export function reviewHandlers(deps: HandlerDeps): Pick<ServiceImpl<typeof ReviewFetcher>, "listReviews" | "listReviewVersions"> {
  return {
    async listReviews(req, ctx) {
      const caller = callerOf(ctx);
      const limit = pageSize(req.pageSize);
      const after = decodePageToken(req.pageToken, BIGINT_PATTERN);
      const where = ["r.deleted_at IS NULL"];
      const params: unknown[] = [];
      const add = (clause: (n: number) => string, value: unknown) => {
        params.push(value);
        where.push(clause(params.length));
      };
      const tenant = tenantScope(caller);
      if (tenant !== undefined) add((n) => `r.tenant_id = $${n}`, tenant);
      if (req.clientId) add((n) => `r.client_id = $${n}`, req.clientId);
      if (req.locationId) {
        // reviewflow's location id, Google's full name, or Google's bare location id
        if (UUID_PATTERN.test(req.locationId)) add((n) => `r.location_id = $${n}`, req.locationId);
        else if (req.locationId.includes("/")) add((n) => `l.google_name = $${n}`, req.locationId);
        else add((n) => `substring(l.google_name from position('/locations/' in l.google_name) + 11) = $${n}`, req.locationId);
      }
      if (req.updatedAfter) add((n) => `r.update_time > $${n}`, timestampDate(req.updatedAfter));
      if (req.minRating > 0) add((n) => `r.star_rating >= $${n}`, req.minRating);
      if (after) {
        params.push(after.t, after.i);
        where.push(`(r.update_time, r.id) < ($${params.length - 1}::timestamptz, $${params.length}::bigint)`);
      }
      params.push(limit + 1);
      const { rows } = await deps.db.query<ReviewListRow>(
        `SELECT r.id, r.review_pb, r.location_id, r.client_id, r.first_seen_at, r.last_seen_at, to_json(r.update_time) #>> '{}' AS cursor_time
         FROM reviews r JOIN locations l ON l.id = r.location_id
         WHERE ${where.join(" AND ")}
         ORDER BY r.update_time DESC, r.id DESC LIMIT $${params.length}`,
        params,
      );
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
