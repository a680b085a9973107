import type { StageName } from "../../../lib/nats/index.js";
import { Conditions, newestFirst, type Page, type Sql } from "./db.js";

/** A job's status; every statement that sets one is in job-status.ts (the state machine). */
export type JobStatusName = "QUEUED" | "RUNNING" | "SUCCEEDED" | "PARTIAL" | "FAILED" | "CANCELLED";
export type ModeName = "incremental" | "full";
/** What started a job (fetch_jobs.trigger). */
export type TriggerName = "on_demand" | "schedule" | "reconciliation" | "notification";
export const ACTIVE_STATUSES: readonly JobStatusName[] = ["QUEUED", "RUNNING"];

/** A fetch_jobs row as Postgres returns it (bigint counters arrive as strings). */
export interface JobRow {
  id: string;
  tenant_id: string | null;
  client_id: string | null;
  branch_id: string | null;
  target_location: string | null;
  /** A notification's one-review pass: only this review is read (reviews.get). */
  target_review?: string | null;
  scope_key: string;
  google_project: string;
  access_token_sealed: string | null;
  mode: ModeName;
  trigger: TriggerName;
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
export const COUNTERS: readonly CounterName[] = [
  "accounts",
  "locations",
  "pages",
  "reviews_seen",
  "created",
  "updated",
  "unchanged",
  "deleted",
];

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
  /** Counters the statement itself computes (SQL expressions over the stage's own CTEs), instead of `counters`. */
  counterSql?: Partial<Record<CounterName, string>>;
  /** Tasks this one published (before this commit); each is counted in tasks_total once. */
  children?: NewTask[];
}

export interface FinishResult {
  /** False when the task had already finished (a redelivery): nothing was counted again. */
  counted: boolean;
  /** Set when this finish completed the job. */
  ended?: { status: JobStatusName; seconds: number };
  /** The task was parked, not finished: it waits for another job's pass over its location. */
  parked?: boolean;
}

export const COUNTER_COLUMNS = [...COUNTERS, "retries", "dead_lettered", "tasks_total", "tasks_done"] as const;
/** Counter rows per job: concurrent tasks of one job rarely wait for the same row. */
export const NUMBER_OF_SHARDS = 16;

let shardTurn = Math.floor(Math.random() * NUMBER_OF_SHARDS);

/**
 * The counter row for this process's next counting statement: in turn, from a random start. A
 * statement holds its shard's row lock until its commit is flushed, and chosen at random, two of
 * a fetcher's 14 concurrent commits shared a row more often than not (1 − (15/16)^13 = 57 %):
 * in turn, the statements running at once have different rows, and only another instance's can
 * meet them.
 */
export function nextShard(): number {
  shardTurn = (shardTurn + 1) % NUMBER_OF_SHARDS;
  return shardTurn;
}

/**
 * A job as the API sees it: the fetch_jobs row with its counters added up from their shards
 * (`fetch_job_counters`; see migration 0005). Use as `SELECT ... FROM (${JOB_VIEW}) j`.
 */
export const JOB_VIEW = `SELECT j.id, j.tenant_id, j.client_id, j.branch_id, j.target_location, j.target_review, j.scope_key, j.google_project,
    j.access_token_sealed, j.mode, j.trigger, j.status, j.error, j.request_scope, j.request_id, j.created_by, j.root_published,
    j.created_at, j.started_at, j.ended_at,
    ${COUNTER_COLUMNS.map((c) => `j.${c} + COALESCE(c.${c}, 0) AS ${c}`).join(", ")},
    GREATEST(j.updated_at, c.changed_at) AS updated_at, GREATEST(j.progress_at, c.progress_at) AS progress_at
  FROM fetch_jobs j LEFT JOIN LATERAL (
    SELECT ${COUNTER_COLUMNS.map((c) => `sum(${c}) AS ${c}`).join(", ")}, max(changed_at) AS changed_at, max(progress_at) AS progress_at
    FROM fetch_job_counters WHERE job_id = j.id) c ON true`;

export async function loadJob(sql: Sql, id: string): Promise<JobRow | undefined> {
  const { rows } = await sql.query<JobRow>(`SELECT * FROM (${JOB_VIEW}) j WHERE id = $1`, [id]);
  return rows[0];
}

/** The job a create request made before (its request_id within the caller's scope), if any. */
export async function findJobByRequest(sql: Sql, scope: string, requestId: string): Promise<JobRow | undefined> {
  const { rows } = await sql.query<JobRow>(`SELECT * FROM (${JOB_VIEW}) j WHERE request_scope = $1 AND request_id = $2`, [
    scope,
    requestId,
  ]);
  return rows[0];
}

/** Serialises admission so concurrent creates cannot all slip under the bound together. */
const ADMISSION_LOCK = 7_201_338;

/** Takes admission's lock until the end of the transaction `sql` runs in. */
export async function lockAdmission(sql: Sql): Promise<void> {
  await sql.query("SELECT pg_advisory_xact_lock($1)", [ADMISSION_LOCK]);
}

/** QUEUED or RUNNING jobs: all of them, and those of one tenant (0 for a job without one). */
export async function countActiveJobs(sql: Sql, tenantId: string | null): Promise<{ total: number; tenant: number }> {
  const { rows } = await sql.query<{ total: number; tenant: number }>(
    // the scheduler's passes have their own bound (a few seconds of quota per project), and
    // notification passes are one reviews.get each in their own quota lane: neither may ever
    // make a person's job wait for admission
    `SELECT count(*)::int AS total, count(*) FILTER (WHERE tenant_id = $1)::int AS tenant FROM fetch_jobs
     WHERE status IN ('QUEUED','RUNNING') AND trigger NOT IN ('schedule','reconciliation','notification')`,
    [tenantId],
  );
  return rows[0] ?? { total: 0, tenant: 0 };
}

/** Every QUEUED or RUNNING job's id. */
export async function activeJobIds(sql: Sql): Promise<string[]> {
  const { rows } = await sql.query<{ id: string }>("SELECT id FROM fetch_jobs WHERE status IN ('QUEUED','RUNNING')");
  return rows.map((r) => r.id);
}

/** QUEUED jobs (fetch_jobs rows, counters not added up) created over `seconds` ago whose first task is not known to be on FETCH. */
export async function jobsWithUnpublishedRoot(sql: Sql, seconds: number, limit: number): Promise<JobRow[]> {
  const { rows } = await sql.query<JobRow>(
    `SELECT * FROM fetch_jobs WHERE status = 'QUEUED' AND NOT root_published AND created_at < now() - make_interval(secs => $1) LIMIT $2`,
    [seconds, limit],
  );
  return rows;
}

/** Records that the job's first task is on FETCH. */
export async function markRootPublished(sql: Sql, jobId: string): Promise<void> {
  await sql.query("UPDATE fetch_jobs SET root_published = true WHERE id = $1", [jobId]);
}

export async function addRetry(sql: Sql, jobId: string): Promise<void> {
  await addToCounters(sql, jobId, { retries: 1 }, false);
}

/** Adds to one (random) counter shard of a job; `progress` also moves its stall clock. */
export async function addToCounters(
  sql: Sql,
  jobId: string,
  deltas: Partial<Record<(typeof COUNTER_COLUMNS)[number], number>>,
  progress: boolean,
): Promise<void> {
  const columns = COUNTER_COLUMNS.filter((c) => (deltas[c] ?? 0) !== 0);
  const values = columns.map((c) => deltas[c]!);
  await sql.query(
    `INSERT INTO fetch_job_counters (job_id, shard, ${columns.map((c) => `${c}, `).join("")}progress_at, changed_at)
     VALUES ($1, $2, ${columns.map((_, i) => `$${i + 4}, `).join("")}CASE WHEN $3 THEN now() END, now())
     ON CONFLICT (job_id, shard) DO UPDATE SET
       ${columns.map((c) => `${c} = fetch_job_counters.${c} + EXCLUDED.${c}, `).join("")}
       progress_at = CASE WHEN $3 THEN now() ELSE fetch_job_counters.progress_at END, changed_at = now()`,
    [jobId, nextShard(), progress, ...values],
  );
}

export interface JobListFilter extends Page {
  tenantId?: string;
  clientId?: string;
  status?: JobStatusName;
}

/** Newest first, keyset-paged on (created_at, id). */
export async function listJobs(sql: Sql, filter: JobListFilter): Promise<(JobRow & { cursor_time: string })[]> {
  const where = new Conditions().equal("tenant_id", filter.tenantId).equal("client_id", filter.clientId).equal("status", filter.status);
  return newestFirst<JobRow>(sql, `(${JOB_VIEW}) j`, "created_at", where, filter);
}
