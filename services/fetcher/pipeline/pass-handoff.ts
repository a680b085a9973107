import { fromBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { publishMessage } from "../../../lib/nats/index.js";
import { FetchReviewsTaskSchema } from "../../../gen/reviewflow/reviews/v1/tasks_pb.js";
import { handOffPass, locationsToHandOff, releaseHandOff } from "../store/location-pass-store.js";
import type { PipelineContext } from "./pipeline-context.js";
import { resumedMessageId } from "./task-ids.js";

/**
 * Hands a free location to the job that has waited longest for it and puts that job's parked
 * first page back on FETCH, under a fresh message id (the original one may still be inside the
 * FETCH duplicate window). An incremental page stops at the location's watermark as it is now:
 * the pass that just ended may have moved it.
 */
export async function handOff(ctx: PipelineContext, locationId: string): Promise<boolean> {
  // long enough for the page to come out of a busy FETCH queue; if it does not start in time,
  // the sweep hands the location to the same (oldest) waiter again
  const handOffSeconds = Math.max(5, Math.ceil((2 * ctx.settings.ackWaitMs) / 1000));
  const next = await handOffPass(ctx.db, locationId, handOffSeconds);
  if (!next) return false;
  const task = fromBinary(FetchReviewsTaskSchema, next.task);
  if (task.stopAtUpdateTime && next.syncedUpdateTime) task.stopAtUpdateTime = timestampFromDate(next.syncedUpdateTime);
  try {
    await publishMessage(ctx.nats.publisher, ctx.nats.names.fetch.subject("reviews"), FetchReviewsTaskSchema, task, {
      msgID: resumedMessageId(next.taskId, next.resumes),
    });
  } catch (err) {
    // NATS is away: free the location again at once, so the next sweep retries the hand-off
    // instead of the waiter sitting out the hand-off lease
    await releaseHandOff(ctx.db, locationId, next.jobId).catch(() => undefined);
    throw err;
  }
  ctx.metrics.publishes.inc({ kind: "task" });
  return true;
}

/** The maintenance sweep's part: every location that waiters wait for and nobody holds. */
export async function handOffFreeLocations(ctx: PipelineContext): Promise<number> {
  let handed = 0;
  for (const locationId of await locationsToHandOff(ctx.db, 200)) {
    if (await handOff(ctx, locationId)) handed++;
  }
  return handed;
}
