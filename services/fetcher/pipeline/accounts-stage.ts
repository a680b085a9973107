import { FetchAccountsTaskSchema, FetchLocationsTaskSchema } from "../../../gen/reviewflow/reviews/v1/tasks_pb.js";
import type { NewTask } from "../store/job-store.js";
import { commitTask } from "../store/task-finish.js";
import { callGoogle, publishTask, type PipelineContext } from "./pipeline-context.js";
import type { StageHandler } from "./stage-handler.js";
import { accountsTaskId, locationsTaskId } from "./task-ids.js";

/** `fetch.accounts`: one page of the grant's accounts → a locations task per account, and the next page. */
export function createAccountsStage(ctx: PipelineContext): StageHandler<typeof FetchAccountsTaskSchema> {
  return {
    stage: "accounts",
    schema: FetchAccountsTaskSchema,
    describe: (task) => ({ jobId: task.jobId, taskId: accountsTaskId(task.jobId, task.pageToken), resource: "accounts" }),
    async run(task, job, attempt) {
      const page = await callGoogle(ctx, job, "accounts.list", attempt, (token) =>
        ctx.source.listAccounts(token, { pageToken: task.pageToken }),
      );
      const children: NewTask[] = [];
      const publishes: Promise<void>[] = [];
      for (const account of page.items) {
        const id = locationsTaskId(job.id, account.name, "");
        children.push({ id, stage: "locations" });
        publishes.push(publishTask(ctx, "locations", FetchLocationsTaskSchema, { jobId: job.id, accountName: account.name }, id));
      }
      if (page.nextPageToken) {
        const id = accountsTaskId(job.id, page.nextPageToken);
        children.push({ id, stage: "accounts" });
        publishes.push(publishTask(ctx, "accounts", FetchAccountsTaskSchema, { jobId: job.id, pageToken: page.nextPageToken }, id));
      }
      // children first, then our commit: a crash in between republishes them under the same ids
      await Promise.all(publishes);
      return commitTask(ctx.db, {
        jobId: job.id,
        taskId: accountsTaskId(job.id, task.pageToken),
        stage: "accounts",
        state: "done",
        counters: { accounts: page.items.length },
        children,
      });
    },
  };
}
