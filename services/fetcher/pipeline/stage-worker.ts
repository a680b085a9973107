import type { JsMsg } from "@nats-io/jetstream";
import type { Logger } from "../../../lib/log/index.js";
import type { Nats, StageName } from "../../../lib/nats/index.js";
import { sleep } from "./sleep.js";

export interface StageWorkerOptions {
  stage: StageName;
  nats: Nats;
  /** Tasks run at once by this worker. */
  concurrency: number;
  isPaused(): boolean;
  /** How often a paused worker looks again. */
  pollMs: number;
  run(msg: JsMsg, signal: AbortSignal): Promise<void>;
  logger: Logger;
}

export interface StageWorker {
  start(): void;
  /** Stops pulling, lets in-flight tasks finish (waits are cut short and handed back), then resolves. */
  stop(): Promise<void>;
}

/**
 * Pulls one stage's durable consumer with bounded concurrency: it only ever asks JetStream for
 * as many messages as it has free slots, so nothing waits in a local buffer while its ack timer
 * runs. Every message gets exactly one explicit outcome from `run` (ack, nak, dead letter).
 */
export function createStageWorker(options: StageWorkerOptions): StageWorker {
  const { stage, nats } = options;
  const log = options.logger.child({ stage });
  const stopping = new AbortController();
  const inFlight = new Set<Promise<void>>();
  let slotFreed: (() => void) | undefined;
  let loop: Promise<void> | undefined;

  const launch = (msg: JsMsg) => {
    const task = options
      .run(msg, stopping.signal)
      .catch((err: unknown) => {
        // run() settles every message itself; reaching here is a bug: hand the message back
        log.error("task runner threw", { err });
        msg.nak();
      })
      .finally(() => {
        inFlight.delete(task);
        slotFreed?.();
      });
    inFlight.add(task);
  };

  const pullLoop = async () => {
    let consumer: Awaited<ReturnType<typeof nats.js.consumers.get>> | undefined;
    while (!stopping.signal.aborted) {
      if (options.isPaused()) {
        await sleep(options.pollMs, stopping.signal).catch(() => undefined);
        continue;
      }
      const free = options.concurrency - inFlight.size;
      if (free <= 0) {
        await new Promise<void>((resolve) => (slotFreed = resolve));
        slotFreed = undefined;
        continue;
      }
      try {
        consumer ??= await nats.js.consumers.get(nats.names.fetch.stream, nats.names.fetch.consumer(stage));
        // `expires` is the shortest JetStream allows; it bounds how late a stop or pause is seen
        const batch = await consumer.fetch({ max_messages: free, expires: 1_000 });
        for await (const msg of batch) {
          // arrived after we decided to stop: give it straight back, unstarted
          if (stopping.signal.aborted) msg.nak();
          else launch(msg);
        }
      } catch (err) {
        if (stopping.signal.aborted) break;
        log.warn("pull failed; retrying", { err: String((err as Error)?.message ?? err) });
        await sleep(1_000, stopping.signal).catch(() => undefined);
      }
    }
  };

  return {
    start() {
      loop ??= pullLoop().catch((err: unknown) => log.error("stage worker stopped", { err }));
    },
    async stop() {
      stopping.abort();
      slotFreed?.();
      await loop;
      await Promise.allSettled([...inFlight]);
    },
  };
}
