import assert from "node:assert/strict";
import { createInFlightTarget } from "./in-flight-target.js";
import { sleep } from "./sleep.js";

describe("createInFlightTarget (FETCH_CONCURRENCY)", () => {
  it("keeps a fixed number whatever Google's latency", () => {
    const target = createInFlightTarget({ fixed: 12, max: 64, qpm: 300 });
    target.observe("p", 5_000);
    assert.equal(target.current(), 12);
  });

  it("follows quota rate × latency (twice, for the task's own work) between the floor and FETCH_CONCURRENCY_MAX", async () => {
    const target = createInFlightTarget({ fixed: "auto", max: 64, qpm: 6_000 });
    assert.equal(target.current(), 8, "nothing observed yet: the floor");
    target.observe("p", 300); // 100 calls/s × 0.3 s = 30 in flight, twice = 60
    await sleep(110);
    assert.equal(target.current(), 60);
    target.observe("q", 300);
    await sleep(110);
    assert.equal(target.current(), 64, "two such projects need more than the ceiling");
  });

  it("forgets a project that has not called Google lately", async () => {
    const target = createInFlightTarget({ fixed: "auto", max: 64, qpm: 6_000, activeMs: 50 });
    target.observe("p", 300);
    await sleep(120);
    assert.equal(target.current(), 8);
  });
});
