import type { DescMessage } from "@bufbuild/protobuf";
import type { Subscription } from "@nats-io/nats-core";
import { decodeMessage } from "../../../lib/nats/index.js";
import { loadJob } from "../store/job-store.js";
import { loadTaskState } from "../store/task-store.js";
import { deadLetterUnknownJob, writeDeadLetter } from "./dead-letters.js";
import type { PipelineContext } from "./pipeline-context.js";
import type { StageHandler } from "./stage-handler.js";
import { generationOfMessageId } from "./task-ids.js";

/** One handler per advisory across all instances (a core NATS queue group). */
const QUEUE = "reviewflow-fetcher-max-deliveries";

interface MaxDeliveriesAdvisory {
  stream_seq?: number;
  deliveries?: number;
}

/**
 * JetStream gives up on a task after FETCH_MAX_DELIVER deliveries (e.g. the workers holding it
 * crashed each time), but on nats-server 2.9 the message stays in the work-queue stream and
 * neither term() nor the limit removes it. The MAX_DELIVERIES advisory names it: dead-letter it
 * like any failed task, then delete it from FETCH.
 */
export function watchMaxDeliveries(ctx: PipelineContext, handlers: StageHandler<DescMessage>[]): { stop(): Promise<void> } {
  const subscriptions: Subscription[] = [];
  const loops: Promise<void>[] = [];
  for (const handler of handlers) {
    const sub = ctx.nats.connection.subscribe(ctx.nats.names.maxDeliveriesAdvisory(handler.stage), { queue: QUEUE });
    subscriptions.push(sub);
    loops.push(
      (async () => {
        for await (const m of sub) {
          try {
            await deadLetterAdvised(ctx, handler, JSON.parse(new TextDecoder().decode(m.data)) as MaxDeliveriesAdvisory);
          } catch (err) {
            ctx.logger.error("max-deliveries advisory not handled", { stage: handler.stage, err });
          }
        }
      })(),
    );
  }
  return {
    async stop() {
      for (const sub of subscriptions) sub.unsubscribe();
      await Promise.allSettled(loops);
    },
  };
}

async function deadLetterAdvised(ctx: PipelineContext, handler: StageHandler<DescMessage>, advisory: MaxDeliveriesAdvisory): Promise<void> {
  const seq = advisory.stream_seq;
  if (typeof seq !== "number") return;
  const stream = ctx.nats.names.fetch.stream;
  const stored = await ctx.nats.jsm.streams.getMessage(stream, { seq }).catch(() => null);
  if (!stored) return; // already acked, deleted, or handled by another instance
  let task;
  try {
    task = decodeMessage(handler.schema, stored.data, stored.header);
  } catch {
    await ctx.nats.jsm.streams.deleteMessage(stream, seq);
    return;
  }
  const description = handler.describe(task);
  const generation = generationOfMessageId(stored.header?.get("Nats-Msg-Id"));
  const [job, state] = await Promise.all([loadJob(ctx.db, description.jobId), loadTaskState(ctx.db, description.taskId)]);
  const unfinished = !state || (state.state === "pending" && state.generation === generation);
  if (!job) {
    // a task of a job this deployment does not know ran out of deliveries: not deleted unsaid
    await deadLetterUnknownJob(ctx, {
      stage: handler.stage,
      subject: stored.subject,
      task: stored.data,
      taskType: handler.schema.typeName,
      jobId: description.jobId,
      taskId: description.taskId,
      generation,
      attempts: advisory.deliveries ?? 0,
      waitedMs: Date.now() - new Date(stored.time).getTime(),
    });
  } else if (unfinished) {
    await writeDeadLetter(ctx, {
      stage: handler.stage,
      subject: stored.subject,
      task: stored.data,
      taskType: handler.schema.typeName,
      jobId: job.id,
      tenantId: job.tenant_id,
      taskId: description.taskId,
      generation,
      resource: description.resource,
      code: "MAX_DELIVERIES",
      message: `delivered ${advisory.deliveries ?? "the maximum number of"} times without being acknowledged (worker crashed or timed out each time)`,
      httpStatus: 0,
      attempts: advisory.deliveries ?? 0,
    });
  }
  await ctx.nats.jsm.streams.deleteMessage(stream, seq);
}
