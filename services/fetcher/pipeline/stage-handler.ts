import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import type { StageName } from "../../../lib/nats/index.js";
import type { FinishResult, JobRow } from "../store/job-store.js";
import type { TaskAttempt } from "./pipeline-context.js";

/** What a task is about, read from its message without running it. */
export interface TaskDescription {
  jobId: string;
  taskId: string;
  /** The account or location resource name the task reads (shown with dead letters). */
  resource: string;
  /**
   * A task that must have finished (committed) before this one runs: a location's review pages
   * commit in order, so the last page's deletion sweep and watermark see every earlier page.
   */
  after?: string;
}

/**
 * One stage's work. `run` calls Google, publishes what follows (child tasks, review events)
 * BEFORE its own database commit, and commits the task's effects with `finishTask` in one
 * transaction; the runner acks only after `run` returns. A crash anywhere in between redelivers
 * the task, which republishes under the same message ids (dropped by JetStream as duplicates)
 * and finds its effects either committed (counted once) or absent (done again).
 */
export interface StageHandler<Desc extends DescMessage = DescMessage> {
  stage: StageName;
  schema: Desc;
  describe(task: MessageShape<Desc>): TaskDescription;
  run(task: MessageShape<Desc>, job: JobRow, attempt: TaskAttempt): Promise<FinishResult>;
}
