import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { headers as natsHeaders } from "@nats-io/nats-core";
import { callerOf, canSee, JOB_ROLES, requireRole, tenantScope } from "../../../lib/auth/index.js";
import { TYPE_HEADER, type StageName } from "../../../lib/nats/index.js";
import { FailedPreconditionError, NotFoundError } from "../../../lib/rpc/index.js";
import { Stage } from "../../../gen/reviewflow/reviews/v1/tasks_pb.js";
import type { DeadLetterEntry, ReviewFetcher } from "../../../gen/reviewflow/fetcher/v1/fetcher_pb.js";
import { STAGE_ENUM } from "../pipeline/dead-letters.js";
import { taskMessageId } from "../pipeline/task-ids.js";
import { addToCounters, loadJob } from "../store/job-store.js";
import { toFetchJob } from "../store/job-mapper.js";
import type { HandlerDeps } from "./handler-deps.js";
import { decodePageToken, encodePageToken, pageSize, UUID_PATTERN } from "./page-token.js";

interface DeadLetterRow {
  id: string;
  job_id: string;
  tenant_id: string | null;
  task_id: string;
  stage: StageName;
  subject: string;
  task_type: string;
  task: Buffer;
  resource: string;
  error_code: string;
  error_message: string;
  http_status: number;
  attempts: number;
  failed_at: Date;
  replayed_at: Date | null;
  cursor_time?: string;
}

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
      const after = decodePageToken(req.pageToken, UUID_PATTERN);
      const where: string[] = [];
      const params: unknown[] = [];
      const add = (clause: (n: number) => string, value: unknown) => {
        params.push(value);
        where.push(clause(params.length));
      };
      const tenant = tenantScope(caller);
      if (tenant !== undefined) add((n) => `tenant_id = $${n}`, tenant);
      if (req.jobId) add((n) => `job_id = $${n}`, req.jobId);
      if (req.stage) add((n) => `stage = $${n}`, STAGE_NAMES[req.stage]);
      if (after) {
        params.push(after.t, after.i);
        where.push(`(failed_at, id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
      }
      params.push(limit + 1);
      const { rows } = await db.query<DeadLetterRow>(
        `SELECT *, to_json(failed_at) #>> '{}' AS cursor_time FROM dead_letters
         ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY failed_at DESC, id DESC LIMIT $${params.length}`,
        params,
      );
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        deadLetters: page.map(toEntry),
        nextPageToken: rows.length > limit && last ? encodePageToken({ t: last.cursor_time!, i: last.id }) : "",
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
      const { rows } = await db.query<DeadLetterRow>("SELECT * FROM dead_letters WHERE id = $1", [req.id]);
      const letter = rows[0];
      if (!letter || !canSee(caller, letter.tenant_id)) throw new NotFoundError("dead letter", req.id);
      const job = await loadJob(db, letter.job_id);
      if (!job) throw new NotFoundError("job", letter.job_id);
      if (job.status === "CANCELLED") throw new FailedPreconditionError(`job "${job.id}" was cancelled; create a new job`);
      if (!job.client_id && !job.access_token_sealed) {
        throw new FailedPreconditionError(`job "${job.id}" ran on a raw access token, wiped when it ended; create a new job with a fresh token`);
      }
      await db.tx(async (sql) => {
        const task = (await sql.query<{ state: string; generation: number }>("SELECT state, generation FROM fetch_tasks WHERE id = $1 FOR UPDATE", [letter.task_id])).rows[0];
        if (!task || task.state !== "dead") throw new FailedPreconditionError(`dead letter "${letter.id}" was already replayed (its task is ${task?.state ?? "gone"})`);
        const generation = task.generation + 1;
        await sql.query("UPDATE fetch_tasks SET state = 'pending', generation = $2, finished_at = NULL WHERE id = $1", [letter.task_id, generation]);
        await sql.query("UPDATE dead_letters SET replayed_at = now() WHERE id = $1", [letter.id]);
        await sql.query(
          `UPDATE fetch_jobs SET status = 'RUNNING', started_at = COALESCE(started_at, now()), error = '', ended_at = NULL,
             progress_at = now(), updated_at = now()
           WHERE id = $1`,
          [job.id],
        );
        // the task is pending again: no longer done, no longer dead-lettered
        await addToCounters(sql, job.id, { tasks_done: -1, dead_lettered: -1 }, true);
        const h = natsHeaders();
        h.set(TYPE_HEADER, letter.task_type);
        await deps.pipeline.nats.js.publish(letter.subject, letter.task, { headers: h, msgID: taskMessageId(letter.task_id, generation) });
        deps.pipeline.metrics.publishes.inc({ kind: "task" });
      });
      deps.logger.info("dead letter replayed", { dead_letter_id: letter.id, job_id: job.id, by: caller.keyId });
      const [after] = (await db.query<DeadLetterRow>("SELECT * FROM dead_letters WHERE id = $1", [req.id])).rows;
      return { deadLetter: toEntry(after), job: toFetchJob((await loadJob(db, job.id))!) };
    },
  };
}
