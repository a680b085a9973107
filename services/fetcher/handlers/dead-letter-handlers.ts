import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { headers as natsHeaders } from "@nats-io/nats-core";
import { callerOf, canSee, JOB_ROLES, requireRole, tenantScope } from "../../../lib/auth/index.js";
import { TYPE_HEADER, type StageName } from "../../../lib/nats/index.js";
import { FailedPreconditionError, NotFoundError } from "../../../lib/errors/index.js";
import { Stage } from "../../../gen/reviewflow/reviews/v1/tasks_pb.js";
import type { DeadLetterEntry, ReviewFetcher } from "../../../gen/reviewflow/fetcher/v1/fetcher_pb.js";
import { STAGE_ENUM } from "../pipeline/dead-letters.js";
import { taskMessageId } from "../pipeline/task-ids.js";
import { listDeadLetters, loadDeadLetter, markReplayed, type DeadLetterRow } from "../store/dead-letter-store.js";
import { addToCounters, loadJob } from "../store/job-store.js";
import { reopenJob } from "../store/job-status.js";
import { toFetchJob } from "../store/job-mapper.js";
import { lockTaskState, reopenTask } from "../store/task-store.js";
import type { HandlerDeps } from "./handler-deps.js";
import { decodePageToken, encodePageToken, pageSize } from "./page-token.js";
import { visibleJob } from "./visibility.js";

const STAGE_NAMES: Record<number, StageName> = { [Stage.ACCOUNTS]: "accounts", [Stage.LOCATIONS]: "locations", [Stage.REVIEWS]: "reviews" };

function toEntry(row: DeadLetterRow): DeadLetterEntry {
  return {
    $typeName: "reviewflow.fetcher.v1.DeadLetterEntry",
    id: row.id,
    stage: STAGE_ENUM[row.stage],
    jobId: row.job_id,
    resource: row.resource,
    errorCode: row.error_code,
    errorMessage: row.error_message,
    httpStatus: row.http_status,
    attempts: row.attempts,
    failTime: timestampFromDate(row.failed_at),
    replayTime: row.replayed_at ? timestampFromDate(row.replayed_at) : undefined,
  };
}

export function deadLetterHandlers(deps: HandlerDeps): Pick<ServiceImpl<typeof ReviewFetcher>, "listDeadLetters" | "replayDeadLetter"> {
  const { db } = deps;
  return {
    async listDeadLetters(req, ctx) {
      const caller = callerOf(ctx);
      const limit = pageSize(req.pageSize);
      const after = decodePageToken(req.pageToken, "uuid");
      // filtering by another tenant's job is NOT_FOUND, as GET /api/v1/jobs/{job_id} would be
      if (req.jobId) await visibleJob(db, caller, req.jobId);
      const rows = await listDeadLetters(db, {
        tenantId: tenantScope(caller),
        jobId: req.jobId || undefined,
        stage: req.stage ? STAGE_NAMES[req.stage] : undefined,
        after: after ? { time: after.t, id: after.i } : undefined,
        limit: limit + 1,
      });
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        deadLetters: page.map(toEntry),
        nextPageToken: rows.length > limit && last ? encodePageToken({ t: last.cursor_time, i: last.id }) : "",
      };
    },

    /**
     * Puts the original task back on its FETCH subject under a new replay generation (a fresh
     * Nats-Msg-Id), marks the task pending again and reopens its job. The publish happens inside
     * the transaction, before COMMIT: a worker that receives it before the commit sees an older
     * generation in the database and waits (task-runner), and if the commit fails the message is
     * dropped as stale; either way the task runs at most once per replay.
     */
    async replayDeadLetter(req, ctx) {
      const caller = callerOf(ctx);
      requireRole(caller, JOB_ROLES, "replay dead letters");
      const letter = await loadDeadLetter(db, req.id);
      if (!letter || !canSee(caller, letter.tenant_id)) throw new NotFoundError("dead letter", req.id);
      const job = await loadJob(db, letter.job_id);
      if (!job) throw new NotFoundError("job", letter.job_id);
      if (job.status === "CANCELLED") throw new FailedPreconditionError(`job "${job.id}" was cancelled; create a new job`);
      if (!job.client_id && !job.access_token_sealed) {
        throw new FailedPreconditionError(
          `job "${job.id}" ran on a raw access token, wiped when it ended; create a new job with a fresh token`,
        );
      }
      await db.tx(async (sql) => {
        const task = await lockTaskState(sql, letter.task_id);
        if (!task || task.state !== "dead")
          throw new FailedPreconditionError(`dead letter "${letter.id}" was already replayed (its task is ${task?.state ?? "gone"})`);
        const generation = task.generation + 1;
        await reopenTask(sql, letter.task_id, generation);
        await markReplayed(sql, letter.id);
        if (!(await reopenJob(sql, job.id)))
          throw new FailedPreconditionError(`job "${job.id}" was cancelled; its dead letters cannot be replayed`);
        // the task is pending again: no longer done, no longer dead-lettered
        await addToCounters(sql, job.id, { tasks_done: -1, dead_lettered: -1 }, true);
        const h = natsHeaders();
        h.set(TYPE_HEADER, letter.task_type);
        await deps.pipeline.nats.publisher.publish(letter.subject, letter.task, {
          headers: h,
          msgID: taskMessageId(letter.task_id, generation),
        });
        deps.pipeline.metrics.publishes.inc({ kind: "task" });
      });
      deps.logger.info("dead letter replayed", { dead_letter_id: letter.id, job_id: job.id, by: caller.keyId });
      const after = (await loadDeadLetter(db, req.id))!;
      return { deadLetter: toEntry(after), job: toFetchJob((await loadJob(db, job.id))!) };
    },
  };
}
