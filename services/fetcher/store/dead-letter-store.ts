import type { StageName } from "../../../lib/nats/index.js";
import { Conditions, newestFirst, type Page, type Sql } from "./db.js";

/** A `dead_letters` row. */
export interface DeadLetterRow {
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
}

/** What a dead letter records about its task and why it failed. */
export interface DeadLetterFields {
  stage: StageName;
  /** The FETCH subject the task came from. */
  subject: string;
  /** The original task message, as it was published. */
  task: Uint8Array;
  taskType: string;
  jobId: string;
  tenantId: string | null;
  taskId: string;
  resource: string;
  code: string;
  message: string;
  httpStatus: number;
  attempts: number;
}

/** Records a dead letter once (its id is derived from the task and generation; a second insert does nothing). */
export async function insertDeadLetter(sql: Sql, id: string, letter: DeadLetterFields): Promise<void> {
  await sql.query(
    `INSERT INTO dead_letters (id, job_id, tenant_id, task_id, stage, subject, task_type, task, resource, error_code, error_message, http_status, attempts)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT (id) DO NOTHING`,
    [
      id,
      letter.jobId,
      letter.tenantId,
      letter.taskId,
      letter.stage,
      letter.subject,
      letter.taskType,
      Buffer.from(letter.task),
      letter.resource.slice(0, 400),
      letter.code.slice(0, 64),
      letter.message,
      letter.httpStatus,
      letter.attempts,
    ],
  );
}

export async function loadDeadLetter(sql: Sql, id: string): Promise<DeadLetterRow | undefined> {
  const { rows } = await sql.query<DeadLetterRow>("SELECT * FROM dead_letters WHERE id = $1", [id]);
  return rows[0];
}

export interface DeadLetterListFilter extends Page {
  tenantId?: string;
  jobId?: string;
  stage?: StageName;
}

/** Newest first, keyset-paged on (failed_at, id). */
export async function listDeadLetters(sql: Sql, filter: DeadLetterListFilter): Promise<(DeadLetterRow & { cursor_time: string })[]> {
  const where = new Conditions().equal("tenant_id", filter.tenantId).equal("job_id", filter.jobId).equal("stage", filter.stage);
  return newestFirst<DeadLetterRow>(sql, "dead_letters", "failed_at", where, filter);
}

export async function markReplayed(sql: Sql, id: string): Promise<void> {
  await sql.query("UPDATE dead_letters SET replayed_at = now() WHERE id = $1", [id]);
}
