import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import type { JsMsg } from "@nats-io/jetstream";
import { decodeMessage } from "../../../lib/nats/index.js";
import { addRetry, loadJob, type FinishResult, type JobRow } from "../store/job-store.js";
import { completeIfDone, markRunning } from "../store/job-status.js";
import { loadTaskState, type TaskState } from "../store/task-store.js";
import { commitTask } from "../store/task-finish.js";
import { deadLetterUnknownJob, writeDeadLetter } from "./dead-letters.js";
import type { PipelineContext, TaskAttempt } from "./pipeline-context.js";
import { createLocalCommits } from "./local-commits.js";
import { AbortedError, sleep } from "./sleep.js";
import type { StageHandler } from "./stage-handler.js";
import type { TaskSlot } from "./stage-worker.js";
import { generationOfMessageId } from "./task-ids.js";
import { backoffMs, DeferTask, toTaskError, type TaskFailure } from "./task-errors.js";

/** How long a task waits in place for the task it must follow (at most half the ack wait). */
const PREDECESSOR_WAIT_MS = 10_000;
/** A replay's message can arrive before its transaction commits; after this long it is stale. */
const REPLAY_COMMIT_GRACE_MS = 60_000;

/**
 * Runs one delivered FETCH message to exactly one explicit outcome:
 *  - ack: done (effects committed), already finished (redelivery), or dropped (job ended);
 *  - nak(backoff): a transient failure with attempts left (counted in the job's retries);
 *  - dead letter, then ack: a permanent failure, or a transient one on the last attempt;
 *  - nak(): handed back unfinished at shutdown, or deferred (nak(delay)), neither counted.
 */
export function createTaskRunner<Desc extends DescMessage>(ctx: PipelineContext, handler: StageHandler<Desc>, jobs: JobCache) {
  const { stage } = handler;
  const log = ctx.logger.child({ stage });
  const settings = ctx.settings;
  const local = createLocalCommits();

  return async function runTask(msg: JsMsg, slot: TaskSlot): Promise<void> {
    const { signal } = slot;
    let task: MessageShape<Desc>;
    try {
      task = decodeMessage(handler.schema, msg.data, msg.headers);
    } catch {
      // nothing to retry or replay: a message no fetcher can read is dropped, loudly
      log.error("undecodable task dropped", { seq: msg.seq });
      ctx.metrics.tasks.inc({ stage, outcome: "dropped" });
      msg.ack();
      return;
    }
    const description = handler.describe(task);
    const generation = generationOfMessageId(msg.headers?.get("Nats-Msg-Id"));
    const attempt: TaskAttempt = {
      signal,
      replay: generation > 0,
      heartbeat: () => msg.working(),
      committed: () => local.end(description.taskId, true),
      away: (wait, options) => slot.away(wait, options),
    };
    // keep the message ours while it runs (quota waits and slow pages can outlast the ack wait)
    const heartbeat = setInterval(() => msg.working(), Math.max(500, Math.floor(settings.ackWaitMs / 3)));
    let job: JobRow | undefined;
    ctx.completion.begin(description.jobId);
    try {
      const ids = description.after ? [description.taskId, description.after] : [description.taskId];
      const [found, states] = await Promise.all([jobs.get(description.jobId), ctx.taskStates(ids)]);
      const state = states.get(description.taskId);
      // the cache may hold "no such job" from a moment ago: ask the database before concluding
      job = found ?? (await jobs.get(description.jobId, true));
      if (!job) {
        await unknownJob(msg, description, generation);
        return;
      }
      if (state && state.generation < generation) {
        // a replay publishes before its transaction commits: wait for it, unless it never will
        if (Date.now() - msg.info.timestampNanos / 1e6 > REPLAY_COMMIT_GRACE_MS) msg.ack();
        else msg.nak(250);
        return;
      }
      if (state && (state.generation > generation || state.state !== "pending")) {
        ctx.metrics.tasks.inc({ stage, outcome: "duplicate" });
        msg.ack();
        return;
      }
      // a cached ended job is read again before its task is dropped (a replay may have reopened it)
      if (job.status === "CANCELLED" || job.status === "FAILED") job = (await jobs.get(job.id, true)) ?? job;
      if (job.status === "CANCELLED" || job.status === "FAILED") {
        await commitTask(ctx.db, { jobId: job.id, taskId: description.taskId, stage, state: "done" });
        ctx.metrics.tasks.inc({ stage, outcome: "dropped" });
        msg.ack();
        return;
      }
      if (job.status === "QUEUED") {
        await markRunning(ctx.db, job.id);
        job.status = "RUNNING";
      }
      if (description.after) await slot.away(finished(description.after, states.get(description.after), signal));
      local.begin(description.taskId);
      const result = await handler.run(task, job, attempt);
      msg.ack();
      ctx.metrics.tasks.inc({ stage, outcome: result.parked ? "parked" : "done" });
      observeEnd(result);
    } catch (err) {
      await fail(msg, err, job, description, generation);
    } finally {
      local.end(description.taskId);
      clearInterval(heartbeat);
      // the last of the job's tasks here runs the check the others skipped (job-completion.ts)
      if (ctx.completion.end(description.jobId)) await completeOwed(description.jobId);
    }
  };

  async function completeOwed(jobId: string): Promise<void> {
    try {
      const ended = await completeIfDone(ctx.db, jobId);
      if (ended) observeEnd({ counted: false, ended });
    } catch (err) {
      // the maintenance sweep checks every active job too
      log.warn("completion check failed; left to the sweep", { job_id: jobId, err: String((err as Error)?.message ?? err) });
    }
  }

  /**
   * Waits in place for the task this one must follow. Usually a few milliseconds: the previous
   * page publishes its successor right before it commits; when it runs in this process its commit
   * wakes the wait (local-commits.ts), else the state is polled. If it crashed in between, its
   * redelivery comes only after the ack wait, so after a while the task hands itself back until
   * then (a deferral costs a delivery, a wait in place only a slot).
   */
  async function finished(taskId: string, known: TaskState | undefined, signal: AbortSignal): Promise<void> {
    const deadline = Date.now() + Math.min(PREDECESSOR_WAIT_MS, settings.ackWaitMs / 2);
    let state = known;
    const ending = local.wait(taskId);
    if ((!state || state.state === "pending") && ending) {
      // it runs here: woken by its commit (done: nothing to read) or its failure (its state is read once)
      let timer: NodeJS.Timeout | undefined;
      let onAbort: (() => void) | undefined;
      const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()))));
      const aborted = new Promise<boolean>((resolve) => {
        onAbort = () => resolve(false);
        signal.addEventListener("abort", onAbort, { once: true });
      });
      let committed: boolean;
      try {
        committed = await Promise.race([ending, late, aborted]);
      } finally {
        clearTimeout(timer);
        if (onAbort) signal.removeEventListener("abort", onAbort);
      }
      if (signal.aborted) throw new AbortedError();
      if (committed) return;
      state = await loadTaskState(ctx.db, taskId);
    }
    let pollMs = 10;
    while (!state || state.state === "pending") {
      if (Date.now() > deadline) throw new DeferTask(settings.ackWaitMs, "the task before it has not committed yet");
      await sleep(pollMs, signal);
      pollMs = Math.min(250, pollMs * 2);
      state = await loadTaskState(ctx.db, taskId);
    }
  }

  /**
   * A task whose job this deployment's database does not hold: another deployment's work on a
   * stream shared by mistake (one NATS_NAMESPACE for two databases), or a job deleted since. It
   * is never acked away: each delivery hands it back for one ack wait, so a fetcher that knows
   * the job can take it, for as many deliveries as any task gets (FETCH_MAX_DELIVER); the last
   * one dead-letters it with UNKNOWN_JOB. A job's row commits before its first task is published
   * (and its other tasks come from tasks of the job), so a job that is merely not committed yet
   * is never what ends here.
   */
  async function unknownJob(msg: JsMsg, description: ReturnType<StageHandler<Desc>["describe"]>, generation: number): Promise<void> {
    const attempts = msg.info.deliveryCount;
    const waitedMs = Date.now() - msg.info.timestampNanos / 1e6;
    if (attempts < settings.maxDeliver) {
      if (attempts === 1)
        log.warn("task of a job this deployment does not know: left for its owner", {
          job_id: description.jobId,
          task_id: description.taskId,
          namespace: ctx.nats.names.workNamespace,
        });
      ctx.metrics.tasks.inc({ stage, outcome: "unknown_job" });
      msg.nak(settings.ackWaitMs);
      return;
    }
    try {
      await deadLetterUnknownJob(ctx, {
        stage,
        subject: msg.subject,
        task: msg.data,
        taskType: handler.schema.typeName,
        jobId: description.jobId,
        taskId: description.taskId,
        generation,
        attempts,
        waitedMs,
      });
      msg.ack();
      ctx.metrics.tasks.inc({ stage, outcome: "dead_lettered" });
    } catch (err) {
      log.error("dead-lettering failed; task kept", { job_id: description.jobId, task_id: description.taskId, err });
      msg.nak(backoffMs(attempts, settings.retryBaseMs, settings.retryMaxMs));
    }
  }

  function observeEnd(result: FinishResult): void {
    if (result.ended) ctx.metrics.jobDuration.observe({ status: result.ended.status }, result.ended.seconds);
  }

  async function fail(
    msg: JsMsg,
    err: unknown,
    job: JobRow | undefined,
    description: ReturnType<StageHandler<Desc>["describe"]>,
    generation: number,
  ): Promise<void> {
    const outcome = toTaskError(err);
    if (outcome instanceof AbortedError) {
      // shutdown: hand it back at once for another instance (or our restart); not a failure
      msg.nak();
      ctx.metrics.tasks.inc({ stage, outcome: "handed_back" });
      return;
    }
    if (outcome instanceof DeferTask) {
      msg.nak(outcome.delayMs);
      ctx.metrics.tasks.inc({ stage, outcome: "deferred" });
      return;
    }
    const attempts = msg.info.deliveryCount;
    if (outcome.code === "INTERNAL") log.error("task attempt failed", { job_id: description.jobId, task_id: description.taskId, err });
    if (outcome.kind === "transient" && attempts < settings.maxDeliver) {
      const delay = backoffMs(attempts, settings.retryBaseMs, settings.retryMaxMs);
      await addRetry(ctx.db, description.jobId).catch(() => undefined);
      ctx.metrics.retries.inc({ stage });
      ctx.metrics.tasks.inc({ stage, outcome: "retried" });
      log.info("task retried", {
        job_id: description.jobId,
        task_id: description.taskId,
        error_code: outcome.code,
        attempt: attempts,
        delay_ms: delay,
      });
      msg.nak(delay);
      return;
    }
    try {
      const lastAttempt = outcome.kind === "transient";
      const result = await writeDeadLetter(ctx, {
        stage,
        subject: msg.subject,
        task: msg.data,
        taskType: handler.schema.typeName,
        jobId: description.jobId,
        tenantId: job?.tenant_id ?? null,
        taskId: description.taskId,
        generation,
        resource: description.resource,
        code: outcome.code,
        message: lastAttempt ? `${outcome.message} (gave up after ${attempts} attempts)` : outcome.message,
        httpStatus: outcome.details.httpStatus ?? 0,
        attempts,
        failJobWith: outcome.details.jobFatal ? outcome.message : undefined,
      });
      if (outcome.details.jobFatal) log.warn("job failed", { job_id: description.jobId, error_code: outcome.code, error: outcome.message });
      msg.ack();
      ctx.metrics.tasks.inc({ stage, outcome: "dead_lettered" });
      observeEnd(result);
    } catch (dlqErr) {
      // could not record the dead letter: keep the task and try again later
      log.error("dead-lettering failed; task kept", { job_id: description.jobId, task_id: description.taskId, err: dlqErr });
      msg.nak(backoffMs(attempts, settings.retryBaseMs, settings.retryMaxMs));
    }
  }
}

export type TaskRunner = ReturnType<typeof createTaskRunner>;

/**
 * Jobs as tasks see them, kept for a moment: every page of a job needs its scope, project, mode
 * and status, and re-reading the row (with its counters) for each would double the queries per
 * page. A cancel or failure is therefore noticed within FETCH_POLL_MS (at most a second). One
 * cache serves an instance's stages, and when an entry expires the tasks in flight for the job
 * (up to the in-flight target, 64) share one read instead of all missing at once (the baseline
 * job read its row 285 times in 6 s for 906 pages without this).
 */
export type JobCache = ReturnType<typeof createJobCache>;

export function createJobCache(ctx: PipelineContext) {
  const ttlMs = Math.min(1_000, ctx.settings.pollMs);
  const cache = new Map<string, { row: JobRow | undefined; until: number }>();
  const reading = new Map<string, Promise<JobRow | undefined>>();
  return {
    async get(jobId: string, fresh = false): Promise<JobRow | undefined> {
      const hit = cache.get(jobId);
      if (!fresh && hit && hit.until > Date.now()) return hit.row;
      // a fresh read must start after the caller asked: it does not join one already under way
      const shared = fresh ? undefined : reading.get(jobId);
      if (shared) return shared;
      const started = Date.now();
      const read = loadJob(ctx.db, jobId).then((row) => {
        if (cache.size > 1_000) cache.clear();
        cache.set(jobId, { row, until: started + ttlMs });
        return row;
      });
      if (!fresh) {
        reading.set(jobId, read);
        void read.then(
          () => reading.delete(jobId),
          () => reading.delete(jobId),
        );
      }
      return read;
    },
  };
}
export type { TaskFailure };
