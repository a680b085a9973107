import { FetchLocationsTaskSchema } from "../../../gen/reviewflow/reviews/v1/tasks_pb.js";
import type { NewTask } from "../store/job-store.js";
import { commitTask } from "../store/task-finish.js";
import { upsertLocations } from "../store/location-store.js";
import { callGoogle, publishTask, type PipelineContext } from "./pipeline-context.js";
import { publishFirstReviewsPage } from "./root-task.js";
import type { StageHandler } from "./stage-handler.js";
import { locationsTaskId, reviewsTaskId } from "./task-ids.js";

/** `fetch.locations`: one page of an account's locations → a first review page task per location, and the next page. */
export function createLocationsStage(ctx: PipelineContext): StageHandler<typeof FetchLocationsTaskSchema> {
  return {
    stage: "locations",
    schema: FetchLocationsTaskSchema,
    describe: (task) => ({
      jobId: task.jobId,
      taskId: locationsTaskId(task.jobId, task.accountName, task.pageToken),
      resource: task.accountName,
    }),
    async run(task, job, attempt) {
      const page = await callGoogle(ctx, job, "locations.list", attempt, (token) =>
        ctx.source.listLocations(token, task.accountName, { pageToken: task.pageToken }),
      );
      // the internal ids must exist before the child tasks that carry them; the upsert is
      // idempotent, so a re-run finds the same ids
      const rows = await upsertLocations(ctx.db, { scopeKey: job.scope_key, tenantId: job.tenant_id, clientId: job.client_id }, page.items);
      const children: NewTask[] = [];
      const publishes: Promise<void>[] = [];
      for (const location of rows) {
        children.push({ id: reviewsTaskId(job.id, location.id, 1), stage: "reviews" });
        publishes.push(publishFirstReviewsPage(ctx, job, location));
      }
      if (page.nextPageToken) {
        const id = locationsTaskId(job.id, task.accountName, page.nextPageToken);
        children.push({ id, stage: "locations" });
        publishes.push(
          publishTask(
            ctx,
            "locations",
            FetchLocationsTaskSchema,
            { jobId: job.id, accountName: task.accountName, pageToken: page.nextPageToken },
            id,
          ),
        );
      }
      await Promise.all(publishes);
      return commitTask(ctx.db, {
        jobId: job.id,
        taskId: locationsTaskId(job.id, task.accountName, task.pageToken),
        stage: "locations",
        state: "done",
        counters: { locations: rows.length },
        children,
      });
    },
  };
}
