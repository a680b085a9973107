import type { Sql } from "../store/db.js";
import { loadTaskStates, type TaskState } from "../store/task-store.js";
import { coalesce } from "./coalesce.js";

/** The states of these tasks (a task's own and the one it must follow), as its first step reads them. */
export type TaskStateReads = (taskIds: string[]) => Promise<ReadonlyMap<string, TaskState>>;

/** At most this many task ids in one read. */
const MAX_BATCH = 2_000;

/**
 * Every task's first read, for a whole fetcher instance: group-commit batched (coalesce.ts), on
 * a connection of its own (`sql`): one statement for the tasks that start together (a pull
 * brings up to a quarter of the slots at once), and a new task's read does not wait in the
 * service's pool behind the commits of the pages in flight before its Google call.
 */
export function createTaskStateReads(sql: Sql): TaskStateReads {
  return coalesce<string[], ReadonlyMap<string, TaskState>>({
    run: (batch) => loadTaskStates(sql, [...new Set(batch.flat())]),
    weight: (ids) => ids.length,
    maxWeight: MAX_BATCH,
  });
}
