import type { StageName } from "../../../lib/nats/index.js";
import type { Sql } from "./db.js";

/** A task's row in `fetch_tasks`: pending until it ends done or dead; a replay bumps its generation. */
export interface TaskState {
  state: "pending" | "done" | "dead";
  generation: number;
}

/** Several tasks' states in one round trip, by id (missing ids are absent). */
export async function loadTaskStates(sql: Sql, taskIds: string[]): Promise<Map<string, TaskState>> {
  const { rows } = await sql.query<TaskState & { id: string }>("SELECT id, state, generation FROM fetch_tasks WHERE id = ANY($1::text[])", [
    taskIds,
  ]);
  return new Map(rows.map((r) => [r.id, { state: r.state, generation: r.generation }]));
}

export async function loadTaskState(sql: Sql, taskId: string): Promise<TaskState | undefined> {
  const { rows } = await sql.query<TaskState>("SELECT state, generation FROM fetch_tasks WHERE id = $1", [taskId]);
  return rows[0];
}

/** The task's state, its row locked until the end of the transaction `sql` runs in. */
export async function lockTaskState(sql: Sql, taskId: string): Promise<TaskState | undefined> {
  const { rows } = await sql.query<TaskState>("SELECT state, generation FROM fetch_tasks WHERE id = $1 FOR UPDATE", [taskId]);
  return rows[0];
}

/** Records a task as pending (a job's root task, at admission). */
export async function insertPendingTask(sql: Sql, taskId: string, jobId: string, stage: StageName): Promise<void> {
  await sql.query("INSERT INTO fetch_tasks (id, job_id, stage, state) VALUES ($1, $2, $3, 'pending')", [taskId, jobId, stage]);
}

/** A replayed task is pending again, under its new generation. */
export async function reopenTask(sql: Sql, taskId: string, generation: number): Promise<void> {
  await sql.query("UPDATE fetch_tasks SET state = 'pending', generation = $2, finished_at = NULL WHERE id = $1", [taskId, generation]);
}
