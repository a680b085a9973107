import type { JsMsg } from "@nats-io/jetstream";
import type { Logger } from "../../../lib/log/index.js";
import type { Nats, StageName } from "../../../lib/nats/index.js";
import { AbortedError, sleep } from "./sleep.js";

/** By default a wait gives its task's slot up only once it has lasted this long. */
const AWAY_AFTER_MS = 20;

export interface AwayOptions {
  /**
   * Back from the wait, the task takes a slot in turn with the others back from theirs, before
   * anything new is pulled ("queue", the default); "run" when what the wait gave is good only
   * now (a quota slot, within its window): the task runs at once, above the limit if need be.
   */
  then?: "queue" | "run";
  /** The slot is kept for a wait that ends within this long (default AWAY_AFTER_MS; 0: given up at once). */
  graceMs?: number;
}

/** What a running task gets from its worker. */
export interface TaskSlot {
  /** Fires at shutdown: waits are cut short and the task handed back. */
  signal: AbortSignal;
  /**
   * Waits for `wait` without holding a slot: for waits on something other than this process's
   * work (the project's quota, the previous page's commit), so other tasks can run meanwhile.
   * A wait that ends within moments keeps the slot (leaving and coming back costs a pull, and
   * tasks back at once could not all have their slots again).
   */
  away<T>(wait: Promise<T>, options?: AwayOptions): Promise<T>;
}

export interface StageWorkerOptions {
  stage: StageName;
  nats: Nats;
  /** Tasks run at once by this worker (asked again before each pull: it may follow latency). */
  concurrency(): number;
  /**
   * Messages held at once, running or away (waiting for quota): bounds the memory and the
   * messages one instance takes from the others. The consumer's max_ack_pending bounds all
   * instances together.
   */
  maxHeld: number;
  isPaused(): boolean;
  /** How often a paused worker looks again. */
  pollMs: number;
  run(msg: JsMsg, slot: TaskSlot): Promise<void>;
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
 * runs. A task that waits for its project's quota (or its predecessor's commit) gives its slot
 * up meanwhile: a quota-bound project's tasks queue in the quota, not in the slots, so they
 * cannot keep another project's tasks from running (up to `maxHeld` messages). Back from its
 * wait, a task takes a slot again before anything new is pulled, and waits for one if none is
 * free: tasks coming back together never run above the limit. (They did: the 600-location job's
 * second pages came back from their predecessors' commits at twice the limit, 128 tasks queued
 * on Postgres together and finished together, and Google's calls went out in waves with
 * half-second gaps between them.) Every message gets exactly one explicit outcome from `run`
 * (ack, nak, dead letter).
 */
export function createStageWorker(options: StageWorkerOptions): StageWorker {
  const { stage, nats } = options;
  const log = options.logger.child({ stage });
  const stopping = new AbortController();
  const inFlight = new Set<Promise<void>>();
  // each held task has a signal of its own, aborted at stop: its waits listen to it. One signal
  // shared by every task would hold a listener per waiting task, and Node's EventTarget walks its
  // whole list on each add and remove: with 2,000 tasks held that was 4 % of a busy fetcher
  const taskStops = new Set<AbortController>();
  /** Tasks holding no slot: waiting elsewhere, or back and queued in `returning` for one. */
  let awayCount = 0;
  const returning: { resume(): void; stop(): void }[] = [];
  let slotFreed: (() => void) | undefined;
  let loop: Promise<void> | undefined;

  const working = () => inFlight.size - awayCount;
  /** A slot is free: a task back from its wait takes it first, else the pull loop may use it. */
  const wake = () => {
    const limit = options.concurrency();
    while (returning.length > 0 && working() < limit) {
      awayCount--;
      returning.shift()!.resume();
    }
    slotFreed?.();
  };
  const away: TaskSlot["away"] = async (wait, { then = "queue", graceMs = AWAY_AFTER_MS } = {}) => {
    let left = false;
    const leave = () => {
      left = true;
      awayCount++;
      wake();
    };
    const timer = graceMs > 0 ? setTimeout(leave, graceMs) : undefined;
    if (!timer) leave();
    let out: Awaited<typeof wait>;
    try {
      out = await wait;
    } catch (err) {
      // a wait cut short (shutdown, a failure): the task only ends now
      if (left) awayCount--;
      throw err;
    } finally {
      clearTimeout(timer);
    }
    if (!left) return out;
    if (then === "queue" && stopping.signal.aborted) {
      awayCount--;
      throw new AbortedError();
    }
    if (then === "run" || (returning.length === 0 && working() < options.concurrency())) awayCount--;
    // `wake` counts it working again when it hands it a slot
    else await new Promise<void>((resume, reject) => returning.push({ resume, stop: () => reject(new AbortedError()) }));
    return out;
  };

  const launch = (msg: JsMsg) => {
    const taskStop = new AbortController();
    taskStops.add(taskStop);
    const task = options
      .run(msg, { signal: taskStop.signal, away })
      .catch((err: unknown) => {
        // run() settles every message itself; reaching here is a bug: hand the message back
        log.error("task runner threw", { err });
        msg.nak();
      })
      .finally(() => {
        inFlight.delete(task);
        taskStops.delete(taskStop);
        wake();
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
      const limit = options.concurrency();
      const busy = working();
      const free = Math.min(limit - busy - returning.length, options.maxHeld - inFlight.size);
      // a pull is a JetStream request of its own: while tasks run, wait until a quarter of the
      // slots are free rather than pulling once per freed slot
      const enough = busy === 0 ? 1 : Math.max(1, Math.floor(limit / 4));
      if (free < enough) {
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
      for (const taskStop of taskStops) taskStop.abort();
      // tasks back from their waits and queued for a slot are handed back unstarted, as a wait cut short
      awayCount -= returning.length;
      for (const task of returning.splice(0)) task.stop();
      slotFreed?.();
      await loop;
      await Promise.allSettled([...inFlight]);
    },
  };
}
