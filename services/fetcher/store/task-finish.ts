import type { Db, Sql } from "./db.js";
import { COUNTERS, nextShard, type FinishResult, type TaskFinish } from "./job-store.js";
import { completeIfDone } from "./job-status.js";

/**
 * A task's end as common table expressions for ONE statement (appending to `params`): its own
 * row moves pending → done|dead once (a redelivered task finds it finished and counts nothing),
 * its children's rows are inserted once, and the job's counters move in one of its shard rows
 * (concurrent tasks of one job rarely share a row lock). One statement is one round trip and
 * atomic without BEGIN/COMMIT; a stage can put its own writes in front of these CTEs.
 *
 * Children are recorded before (or with) their parent's end, and the root task with the job, so
 * tasks_done == tasks_total means every task ever published has finished (see completeIfDone).
 * The statement's result row `counted` tells whether this call counted anything.
 */
export function finishCtes(f: TaskFinish, params: unknown[]): string {
  const p = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  const job = `${p(f.jobId)}::uuid`;
  const children = f.children ?? [];
  const counterList = COUNTERS.map((name) => `${name}`);
  const counterValues = COUNTERS.map((name) => `d.counted * ${f.counterSql?.[name] ?? `${p(f.counters?.[name] ?? 0)}::bigint`}`);
  return `own AS (
      INSERT INTO fetch_tasks (id, job_id, stage, state, finished_at) VALUES (${p(f.taskId)}::text, ${job}, ${p(f.stage)}::text, ${p(f.state)}::text, now())
      ON CONFLICT (id) DO UPDATE SET state = EXCLUDED.state, finished_at = now() WHERE fetch_tasks.state = 'pending'
      RETURNING (xmax = 0) AS inserted),
    kids AS (
      INSERT INTO fetch_tasks (id, job_id, stage, state)
      SELECT c.id, ${job}, c.stage, 'pending' FROM unnest(${p(children.map((c) => c.id))}::text[], ${p(children.map((c) => c.stage))}::text[]) AS c(id, stage)
      ON CONFLICT (id) DO NOTHING RETURNING 1),
    d AS (
      -- a child can end before its parent commits: then it inserted its own row, counted in the total here
      SELECT (SELECT count(*) FROM own) AS counted, (SELECT count(*) FROM own WHERE inserted) AS own_inserted, (SELECT count(*) FROM kids) AS new_kids),
    counters AS (
      INSERT INTO fetch_job_counters (job_id, shard, tasks_total, tasks_done, dead_lettered, ${counterList.join(", ")}, progress_at, changed_at)
      SELECT ${job}, ${p(nextShard())}::smallint, d.new_kids + d.own_inserted, d.counted, d.counted * ${p(f.state === "dead" ? 1 : 0)}::bigint,
        ${counterValues.join(", ")}, CASE WHEN d.counted > 0 THEN now() END, now()
      FROM d WHERE d.counted > 0 OR d.new_kids > 0
      ON CONFLICT (job_id, shard) DO UPDATE SET
        tasks_total = fetch_job_counters.tasks_total + EXCLUDED.tasks_total, tasks_done = fetch_job_counters.tasks_done + EXCLUDED.tasks_done,
        dead_lettered = fetch_job_counters.dead_lettered + EXCLUDED.dead_lettered,
        ${counterList.map((c) => `${c} = fetch_job_counters.${c} + EXCLUDED.${c}`).join(", ")},
        progress_at = COALESCE(EXCLUDED.progress_at, fetch_job_counters.progress_at), changed_at = now()
      RETURNING 1)`;
}

export interface FinishOutcome {
  counted: boolean;
  /** Child rows this finish inserted as pending: while there are any, the job cannot be complete. */
  pendingChildren: number;
}

/** Runs `WITH <ctes> SELECT ...` and tells what the task's end counted. */
export async function runFinish(sql: Sql, ctes: string[], params: unknown[]): Promise<FinishOutcome> {
  const { rows } = await sql.query<{ counted: boolean; new_kids: string }>(
    `WITH ${ctes.join(",\n")} SELECT d.counted > 0 AS counted, d.new_kids FROM d`,
    params,
  );
  return { counted: rows[0]?.counted ?? false, pendingChildren: Number(rows[0]?.new_kids ?? 0) };
}

/**
 * The completion check after a finish (completeIfDone, job-status.ts), skipped when the finish
 * itself added pending children (the job has unfinished tasks then; whoever finishes last checks)
 * or when `check` is false (another task of the job runs in this process and will check after
 * it ends: pipeline/job-completion.ts).
 */
export async function afterFinish(sql: Sql, jobId: string, outcome: FinishOutcome, check = true): Promise<FinishResult> {
  return { counted: outcome.counted, ended: outcome.pendingChildren > 0 || !check ? undefined : await completeIfDone(sql, jobId) };
}

/**
 * A task's end: `effects` (other writes that must commit with it) and the finish in one
 * transaction, or, without effects, as one statement; then the completion check (afterFinish).
 */
export async function commitTask(db: Db, f: TaskFinish, effects?: (sql: Sql) => Promise<void>): Promise<FinishResult> {
  const params: unknown[] = [];
  const ctes = [finishCtes(f, params)];
  const outcome = effects
    ? await db.tx(async (sql) => {
        await effects(sql);
        return runFinish(sql, ctes, params);
      })
    : await runFinish(db, ctes, params);
  return afterFinish(db, f.jobId, outcome);
}
