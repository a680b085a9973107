import { FetchReviewsTaskSchema } from "../../../gen/reviewflow/reviews/v1/tasks_pb.js";
import type { NewTask, TaskFinish } from "../store/job-store.js";
import { afterFinish, finishCtes, runFinish } from "../store/task-finish.js";
import { hasDeadPage } from "../store/location-store.js";
import { loadStoredReviews, loadUnseenReviews, pageWriteCtes } from "../store/review-store.js";
import { callGoogle, publishTask, type PipelineContext } from "./pipeline-context.js";
import { deletions, diffPage, notAfter } from "./review-diff.js";
import { publishReviewEvent } from "./review-event.js";
import type { StageHandler } from "./stage-handler.js";
import { reviewsTaskId, reviewsTaskPrefix } from "./task-ids.js";

/**
 * `fetch.reviews`: one page of one location. Stores what is new or changed, publishes one
 * ReviewEvent per change (before the commit that records it: a crash re-publishes with the same
 * Nats-Msg-Id, which JetStream drops), and publishes the next page unless this is the last one
 * (no next page, or — incremental — the page reached reviews already stored by a complete pass).
 * The last page of a full pass reports stored reviews it never saw as deleted.
 */
export function createReviewsStage(ctx: PipelineContext): StageHandler<typeof FetchReviewsTaskSchema> {
  return {
    stage: "reviews",
    schema: FetchReviewsTaskSchema,
    describe: (task) => ({
      jobId: task.jobId,
      taskId: reviewsTaskId(task.jobId, task.locationId, task.pageNumber),
      resource: task.locationName,
      after: task.pageNumber > 1 ? reviewsTaskId(task.jobId, task.locationId, task.pageNumber - 1) : undefined,
    }),
    async run(task, job, attempt) {
      const taskId = reviewsTaskId(job.id, task.locationId, task.pageNumber);

      const page = await callGoogle(ctx, job, "reviews.list", attempt, (token) =>
        ctx.source.listReviews(token, task.locationName, { pageToken: task.pageToken }),
      );
      const seen = new Set<string>();
      const reviews = page.items.filter((r) => !seen.has(r.name) && seen.add(r.name));
      const names = reviews.map((r) => r.name);
      const diff = diffPage(reviews, await loadStoredReviews(ctx.db, task.locationId, names));

      const stopAt = job.mode === "incremental" ? task.stopAtUpdateTime : undefined;
      const reachedKnown = stopAt !== undefined && reviews.some((r) => r.updateTime && notAfter(r.updateTime, stopAt));
      const nextToken = page.nextPageToken && !reachedKnown ? page.nextPageToken : undefined;
      const lastPage = nextToken === undefined;
      const completePass = lastPage && !(await hasDeadPage(ctx.db, job.id, reviewsTaskPrefix(job.id, task.locationId)));
      const removed = completePass && job.mode === "full" ? deletions(await loadUnseenReviews(ctx.db, task.locationId, job.id, names)) : [];

      await Promise.all([...diff.changes, ...removed].map((change) => publishReviewEvent(ctx, job, task.locationId, change)));
      // the next page last, right before our commit: it waits for that commit (the runner's
      // `after`), so the shorter the gap, the less it waits
      const children: NewTask[] = [];
      if (nextToken) {
        const id = reviewsTaskId(job.id, task.locationId, task.pageNumber + 1);
        children.push({ id, stage: "reviews" });
        await publishTask(ctx, "reviews", FetchReviewsTaskSchema, {
          jobId: job.id,
          locationName: task.locationName,
          locationId: task.locationId,
          pageToken: nextToken,
          pageNumber: task.pageNumber + 1,
          stopAtUpdateTime: task.stopAtUpdateTime,
        }, id);
      }

      // the page's writes and the task's end: one statement, one round trip, atomic
      const finish: TaskFinish = {
        jobId: job.id,
        taskId,
        stage: "reviews",
        state: "done",
        counters: { pages: 1, reviews_seen: reviews.length, created: diff.created, updated: diff.updated, unchanged: diff.unchanged.length, deleted: removed.length },
        children,
      };
      const params: unknown[] = [];
      const ctes = pageWriteCtes({
        owner: { locationId: task.locationId, tenantId: job.tenant_id, clientId: job.client_id, jobId: job.id },
        writes: diff.writes,
        unchanged: diff.unchanged,
        deletedIds: removed.map((c) => c.storedId!),
        advanceWatermark: completePass,
      }, params);
      ctes.push(finishCtes(finish, params));
      return afterFinish(ctx.db, job.id, await runFinish(ctx.db, ctes, params));
    },
  };
}
