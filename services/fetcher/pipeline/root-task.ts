import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { FetchAccountsTaskSchema, FetchReviewsTaskSchema } from "../../../gen/reviewflow/reviews/v1/tasks_pb.js";
import type { Sql } from "../store/db.js";
import { markRootPublished, type JobRow } from "../store/job-store.js";
import { findLocation, type LocationRow } from "../store/location-store.js";
import { publishTask, type PipelineContext } from "./pipeline-context.js";
import { accountsTaskId, reviewsTaskId } from "./task-ids.js";

/** The first task of a job: list accounts, or (branch jobs, scheduled and notification passes) the location's first review page. */
export async function rootTaskId(sql: Sql, job: Pick<JobRow, "id" | "target_location" | "scope_key">): Promise<string> {
  if (!job.target_location) return accountsTaskId(job.id, "");
  const location = await branchLocation(sql, job);
  return reviewsTaskId(job.id, location.id, 1);
}

/**
 * Puts a job's first task on FETCH (message id = its task id, so publishing twice is harmless)
 * and records that it is there. Called right after admission, and by the maintenance sweep for
 * jobs whose first publish failed or was cut off by a crash.
 */
export async function publishRootTask(ctx: PipelineContext, job: JobRow): Promise<void> {
  if (!job.target_location) {
    await publishTask(ctx, "accounts", FetchAccountsTaskSchema, { jobId: job.id }, accountsTaskId(job.id, ""));
  } else {
    await publishFirstReviewsPage(ctx, job, await branchLocation(ctx.db, job), job.target_review ?? "");
  }
  await markRootPublished(ctx.db, job.id);
}

/**
 * Starts a pass over one location: its first reviews page (task id page 1), incremental down to
 * what the location last synced unless the job is full, or of one review (`reviewName`).
 */
export function publishFirstReviewsPage(
  ctx: PipelineContext,
  job: Pick<JobRow, "id" | "mode">,
  location: LocationRow,
  reviewName = "",
): Promise<void> {
  const stopAtUpdateTime =
    job.mode === "incremental" && location.synced_update_time ? timestampFromDate(location.synced_update_time) : undefined;
  return publishTask(
    ctx,
    "reviews",
    FetchReviewsTaskSchema,
    { jobId: job.id, locationName: location.google_name, locationId: location.id, pageNumber: 1, reviewName, stopAtUpdateTime },
    reviewsTaskId(job.id, location.id, 1),
  );
}

async function branchLocation(sql: Sql, job: Pick<JobRow, "id" | "target_location" | "scope_key">) {
  const location = await findLocation(sql, job.scope_key, job.target_location!);
  if (!location) throw new Error(`job ${job.id}: its branch location row is missing`);
  return location;
}
