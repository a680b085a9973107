import { timestampNow } from "@bufbuild/protobuf/wkt";
import { publishMessage, type StageName } from "../../../lib/nats/index.js";
import { DeadLetterSchema, Stage } from "../../../gen/reviewflow/reviews/v1/tasks_pb.js";
import { insertDeadLetter, type DeadLetterFields } from "../store/dead-letter-store.js";
import type { FinishResult } from "../store/job-store.js";
import { failJob } from "../store/job-status.js";
import { commitTask } from "../store/task-finish.js";
import type { PipelineContext } from "./pipeline-context.js";
import { releasePass } from "../store/location-pass-store.js";
import { handOff } from "./pass-handoff.js";
import { locationOfReviewsTaskId, uuidFrom } from "./task-ids.js";

export const STAGE_ENUM: Record<StageName, Stage> = { accounts: Stage.ACCOUNTS, locations: Stage.LOCATIONS, reviews: Stage.REVIEWS };

export interface DeadLetterInput extends DeadLetterFields {
  /** The task's replay generation: with its id, it names the dead letter. */
  generation: number;
  /** Also end the job FAILED with this reason, in the same transaction (before the task's end could complete it). */
  failJobWith?: string;
}

/**
 * Dead-letters a task: first the DEAD_LETTERS stream (`deadletter.<stage>`, message id = the
 * dead letter's id), then, in one transaction, the `dead_letters` row and the task's end
 * (state dead, counted once). Only after this may the FETCH message be acked or deleted.
 * The id is derived from the task and its replay generation, so doing it twice is harmless.
 */
export async function writeDeadLetter(ctx: PipelineContext, input: DeadLetterInput): Promise<FinishResult> {
  const id = uuidFrom(`${input.taskId}#${input.generation}`);
  const location = input.stage === "reviews" ? locationOfReviewsTaskId(input.taskId) : undefined;
  await publishDeadLetter(ctx, id, input);
  const result = await commitTask(ctx.db, { jobId: input.jobId, taskId: input.taskId, stage: input.stage, state: "dead" }, async (sql) => {
    await insertDeadLetter(sql, id, input);
    if (input.failJobWith) await failJob(sql, input.jobId, input.failJobWith);
    // the job's pass over this location has ended here: whoever waits for it goes next
    if (location) await releasePass(sql, location, input.jobId);
  });
  if (location) await handOff(ctx, location).catch(() => undefined);
  ctx.metrics.deadLetters.inc({ stage: input.stage, code: input.code });
  ctx.logger.warn("task dead-lettered", {
    stage: input.stage,
    job_id: input.jobId,
    task_id: input.taskId,
    dead_letter_id: id,
    error_code: input.code,
    error: input.message,
    attempts: input.attempts,
  });
  return result;
}

/** The dead letter on DEAD_LETTERS (`deadletter.<stage>`, message id = the dead letter's id, so a second publish is dropped). */
async function publishDeadLetter(
  ctx: PipelineContext,
  id: string,
  letter: Pick<DeadLetterFields, "stage" | "subject" | "task" | "taskType" | "jobId" | "code" | "message" | "httpStatus" | "attempts">,
): Promise<void> {
  await publishMessage(
    ctx.nats.publisher,
    ctx.nats.names.deadLetters.subject(letter.stage),
    DeadLetterSchema,
    {
      id,
      stage: STAGE_ENUM[letter.stage],
      subject: letter.subject,
      task: letter.task,
      taskType: letter.taskType,
      jobId: letter.jobId,
      errorCode: letter.code,
      errorMessage: letter.message,
      httpStatus: letter.httpStatus,
      attempts: letter.attempts,
      failTime: timestampNow(),
    },
    { msgID: id },
  );
  ctx.metrics.publishes.inc({ kind: "dead_letter" });
}

/** A task that names a job this deployment's database does not hold. */
export interface UnknownJobTask {
  stage: StageName;
  subject: string;
  task: Uint8Array;
  taskType: string;
  jobId: string;
  taskId: string;
  generation: number;
  attempts: number;
  /** How long it has waited for a fetcher that knows its job. */
  waitedMs: number;
}

/** The dead-letter code of a task whose job this deployment does not know. */
export const UNKNOWN_JOB = "UNKNOWN_JOB";

/**
 * Dead-letters a task whose job this deployment does not know (another deployment's task on a
 * shared namespace, or a job deleted since): on DEAD_LETTERS only, with the reason, since there
 * is no job row here to hang a `dead_letters` row (or a replay) on. Only then may the FETCH
 * message be acked or deleted.
 */
export async function deadLetterUnknownJob(ctx: PipelineContext, input: UnknownJobTask): Promise<void> {
  const id = uuidFrom(`${input.taskId}#${input.generation}`);
  // the work streams' namespace: the one a task of another deployment came through
  const namespace = ctx.nats.names.workNamespace;
  const message =
    `no fetch job ${input.jobId} in this deployment's database: waited ${Math.round(input.waitedMs / 1000)} s (${input.attempts} deliveries) ` +
    `for a fetcher that knows it. Another deployment shares NATS namespace "${namespace}" (give each its own NATS_NAMESPACE), or the job was deleted`;
  await publishDeadLetter(ctx, id, { ...input, code: UNKNOWN_JOB, message, httpStatus: 0 });
  ctx.metrics.deadLetters.inc({ stage: input.stage, code: UNKNOWN_JOB });
  ctx.logger.warn("task of an unknown job dead-lettered", {
    stage: input.stage,
    job_id: input.jobId,
    task_id: input.taskId,
    dead_letter_id: id,
    error_code: UNKNOWN_JOB,
    error: message,
    attempts: input.attempts,
  });
}
