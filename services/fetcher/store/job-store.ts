import type { StageName } from "../../../lib/nats/index.js";
import type { Sql } from "./db.js";

export type JobStatusName = "QUEUED" | "RUNNING" | "SUCCEEDED" | "PARTIAL" | "FAILED" | "CANCELLED";
export type ModeName = "incremental" | "full";
export const ACTIVE_STATUSES: readonly JobStatusName[] = ["QUEUED", "RUNNING"];

/** A fetch_jobs row as Postgres returns it (bigint counters arrive as strings). */
export interface JobRow {
  id: string;
  tenant_id: string | null;
  client_id: string | null;
  branch_id: string | null;
  target_location: string | null;
  scope_key: string;
  google_project: string;
  access_token_sealed: string | null;
  mode: ModeName;
  status: JobStatusName;
  error: string;
  request_scope: string | null;
  request_id: string | null;
  created_by: string;
  accounts: string;
  locations: string;
  pages: string;
  reviews_seen: string;
  created: string;
  updated: string;
  unchanged: string;
  deleted: string;
  retries: string;
  dead_lettered: string;
  tasks_total: string;
  tasks_done: string;
  root_published: boolean;
  created_at: Date;
  started_at: Date | null;
  ended_at: Date | null;
  updated_at: Date;
  progress_at: Date;
}

/** Counters a task adds to its job when it finishes (once, however often it is delivered). */
export type CounterName = "accounts" | "locations" | "pages" | "reviews_seen" | "created" | "updated" | "unchanged" | "deleted";
const COUNTERS: readonly CounterName[] = ["accounts", "locations", "pages", "reviews_seen", "created", "updated", "unchanged", "deleted"];

export interface NewTask {
  id: string;
  stage: StageName;
}

export interface TaskFinish {
  jobId: string;
  taskId: string;
  stage: StageName;
  /** `done` (worked, or dropped because the job had ended) or `dead` (dead-lettered). */
  state: "done" | "dead";
  counters?: Partial<Record<CounterName, number>>;
  /** Tasks this one published (before this commit); each is counted in tasks_total once. */
  children?: NewTask[];
}

export interface FinishResult {
  /** False when the task had already finished (a redelivery): nothing was counted again. */
  counted: boolean;
  /** Set when this finish completed the job. */
  ended?: { status: JobStatusName; seconds: number };
}

export interface TaskState {
  state: "pending" | "done" | "dead";
  generation: number;
}

const JOB_COLUMNS = "*";

export async function loadJob(sql: Sql, id: string): Promise<JobRow | undefined> {
  const { rows } = await sql.query<JobRow>(`SELECT ${JOB_COLUMNS} FROM fetch_jobs WHERE id = $1`, [id]);
  return rows[0];
}

export async function loadTaskState(sql: Sql, taskId: string): Promise<TaskState | undefined> {
  const { rows } = await sql.query<TaskState>("SELECT state, generation FROM fetch_tasks WHERE id = $1", [taskId]);
  return rows[0];
}

export async function countActiveJobs(sql: Sql): Promise<number> {
  const { rows } = await sql.query<{ n: number }>("SELECT count(*)::int AS n FROM fetch_jobs WHERE status IN ('QUEUED','RUNNING')");
  return rows[0]?.n ?? 0;
}

/** QUEUED → RUNNING when its first task starts. */
export async function markRunning(sql: Sql, jobId: string): Promise<void> {
  await sql.query(
    "UPDATE fetch_jobs SET status = 'RUNNING', started_at = COALESCE(started_at, now()), updated_at = now() WHERE id = $1 AND status = 'QUEUED'",
    [jobId],
  );
}

export async function addRetry(sql: Sql, jobId: string): Promise<void> {
  await sql.query("UPDATE fetch_jobs SET retries = retries + 1, updated_at = now() WHERE id = $1", [jobId]);
}

/**
 * Records that a task finished, in the caller's transaction, together with the task's effects:
 * its own row moves pending → done|dead once (a redelivered task finds it finished and counts
 * nothing), its children's rows are inserted once, and the job's counters move in the same
 * statement. When every known task is finished, the job ends. Children are always recorded
 * before (or with) their parent's finish, and the root task is recorded with the job, so
 * tasks_done == tasks_total means every task that was ever published has finished.
 */
export async function finishTask(sql: Sql, f: TaskFinish): Promise<FinishResult> {
  const own = await sql.query<{ inserted: boolean }>(
    `INSERT INTO fetch_tasks (id, job_id, stage, state, finished_at) VALUES ($1, $2, $3, $4, now())
     ON CONFLICT (id) DO UPDATE SET state = EXCLUDED.state, finished_at = now() WHERE fetch_tasks.state = 'pending'
     RETURNING (xmax = 0) AS inserted`,
    [f.taskId, f.jobId, f.stage, f.state],
  );
  const counted = own.rows.length > 0;
  // a child can finish before its parent commits: then it inserted its own row, counted here
  const ownInserted = counted && own.rows[0].inserted ? 1 : 0;
  let newChildren = 0;
  const children = f.children ?? [];
  if (children.length > 0) {
    const inserted = await sql.query(
      `INSERT INTO fetch_tasks (id, job_id, stage, state)
       SELECT c.id, $1, c.stage, 'pending' FROM unnest($2::text[], $3::text[]) AS c(id, stage)
       ON CONFLICT (id) DO NOTHING`,
      [f.jobId, children.map((c) => c.id), children.map((c) => c.stage)],
    );
    newChildren = inserted.count;
  }
  if (!counted && newChildren === 0) return { counted: false };

  const params: unknown[] = [f.jobId, newChildren + ownInserted, counted ? 1 : 0, counted && f.state === "dead" ? 1 : 0];
  const counterSets = COUNTERS.filter((name) => counted && (f.counters?.[name] ?? 0) !== 0).map((name) => {
    params.push(f.counters![name]);
    return `${name} = ${name} + $${params.length}`;
  });
  const { rows } = await sql.query<{ status: JobStatusName; tasks_total: string; tasks_done: string; dead_lettered: string; created_at: Date }>(
    `UPDATE fetch_jobs SET tasks_total = tasks_total + $2, tasks_done = tasks_done + $3, dead_lettered = dead_lettered + $4,
       ${counterSets.map((s) => `${s}, `).join("")}progress_at = now(), updated_at = now()
     WHERE id = $1 RETURNING status, tasks_total, tasks_done, dead_lettered, created_at`,
    params,
  );
  const job = rows[0];
  if (!job || !ACTIVE_STATUSES.includes(job.status) || BigInt(job.tasks_done) < BigInt(job.tasks_total)) return { counted };
  const dead = BigInt(job.dead_lettered);
  const status: JobStatusName = dead > 0n ? "PARTIAL" : "SUCCEEDED";
  await sql.query(
    `UPDATE fetch_jobs SET status = $2, error = $3, ended_at = now(), updated_at = now(), access_token_sealed = NULL
     WHERE id = $1 AND status IN ('QUEUED','RUNNING')`,
    [f.jobId, status, dead > 0n ? `${dead} task(s) dead-lettered; see ListDeadLetters` : ""],
  );
  return { counted, ended: { status, seconds: (Date.now() - job.created_at.getTime()) / 1000 } };
}

/** Ends an active job as FAILED (needs re-consent, token refused, stall). Returns false if it had already ended. */
export async function failJob(sql: Sql, jobId: string, error: string): Promise<boolean> {
  const { count } = await sql.query(
    `UPDATE fetch_jobs SET status = 'FAILED', error = $2, ended_at = now(), updated_at = now(), access_token_sealed = NULL
     WHERE id = $1 AND status IN ('QUEUED','RUNNING')`,
    [jobId, error.slice(0, 1000)],
  );
  return count > 0;
}

export async function cancelJob(sql: Sql, jobId: string, by: string): Promise<boolean> {
  const { count } = await sql.query(
    `UPDATE fetch_jobs SET status = 'CANCELLED', error = $2, ended_at = now(), updated_at = now(), access_token_sealed = NULL
     WHERE id = $1 AND status IN ('QUEUED','RUNNING')`,
    [jobId, `cancelled by ${by}`],
  );
  return count > 0;
}

/** Active jobs whose last finished task is older than the stall timeout end FAILED. */
export async function failStalledJobs(sql: Sql, stallSeconds: number): Promise<{ id: string; created_at: Date }[]> {
  const { rows } = await sql.query<{ id: string; created_at: Date }>(
    `UPDATE fetch_jobs SET status = 'FAILED', error = $2, ended_at = now(), updated_at = now(), access_token_sealed = NULL
     WHERE status IN ('QUEUED','RUNNING') AND progress_at < now() - make_interval(secs => $1)
     RETURNING id, created_at`,
    [stallSeconds, `no progress within ${stallSeconds} s (JOB_STALL_TIMEOUT_SECONDS)`],
  );
  return rows;
}

export interface JobListFilter {
  tenantId?: string;
  clientId?: string;
  status?: JobStatusName;
  after?: { createdAt: string; id: string };
  limit: number;
}

/** Newest first, keyset-paged on (created_at, id). */
export async function listJobs(sql: Sql, filter: JobListFilter): Promise<(JobRow & { cursor_time: string })[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (clause: (n: number) => string, value: unknown) => {
    params.push(value);
    where.push(clause(params.length));
  };
  if (filter.tenantId !== undefined) add((n) => `tenant_id = $${n}`, filter.tenantId);
  if (filter.clientId) add((n) => `client_id = $${n}`, filter.clientId);
  if (filter.status) add((n) => `status = $${n}`, filter.status);
  if (filter.after) {
    params.push(filter.after.createdAt, filter.after.id);
    where.push(`(created_at, id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
  }
  params.push(filter.limit);
  const { rows } = await sql.query<JobRow & { cursor_time: string }>(
    `SELECT *, to_json(created_at) #>> '{}' AS cursor_time FROM fetch_jobs
     ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
     ORDER BY created_at DESC, id DESC LIMIT $${params.length}`,
    params,
  );
  return rows;
}
