import assert from "node:assert/strict";
import { createLogger } from "../../../lib/log/index.js";
import { useTestStreams } from "../../../test/helpers/streams.js";
import { sleep } from "./sleep.js";
import { createStageWorker } from "./stage-worker.js";

describe("stage worker slots", () => {
  const streams = useTestStreams();

  it("runs at most its limit, lends the slot of a long wait, and gives it back to the task before pulling more", async () => {
    const { nats } = streams;
    const total = 40;
    const limit = 4;
    for (let i = 0; i < total; i++) await nats.js.publish(nats.names.fetch.subject("reviews"), new Uint8Array([i]));

    let working = 0;
    let mostWorking = 0;
    let done = 0;
    let mostHeld = 0;
    let held = 0;
    // the first half wait long (a predecessor's commit), all at once: they come back together
    let release!: () => void;
    const predecessors = new Promise<void>((resolve) => (release = resolve));
    let allDone!: () => void;
    const finished = new Promise<void>((resolve) => (allDone = resolve));
    const worker = createStageWorker({
      stage: "reviews",
      nats,
      concurrency: () => limit,
      maxHeld: 100,
      isPaused: () => false,
      pollMs: 50,
      logger: createLogger({ level: "error" }),
      async run(msg, slot) {
        held++;
        mostHeld = Math.max(mostHeld, held);
        const busy = async (ms: number) => {
          working++;
          mostWorking = Math.max(mostWorking, working);
          await sleep(ms);
          working--;
        };
        await busy(5);
        if (msg.data[0]! < total / 2) await slot.away(predecessors);
        // and a short wait (within the grace: the slot is kept), exercised, not measured here
        await slot.away(sleep(2));
        await busy(10);
        msg.ack();
        held--;
        if (++done === total) allDone();
      },
    });
    worker.start();
    const timer = setTimeout(release, 300);
    try {
      await finished;
    } finally {
      clearTimeout(timer);
      release();
      await worker.stop();
    }
    assert.equal(done, total);
    assert.ok(mostWorking <= limit, `${mostWorking} tasks ran at once (limit ${limit})`);
    assert.ok(mostHeld > limit, `the long waits lent their slots: ${mostHeld} tasks held at once`);
  });
});
