import assert from "node:assert/strict";
import pg from "pg";
import { createMetricsRegistry } from "../../../lib/metrics/index.js";
import { useTestDatabase } from "../../../test/helpers/index.js";
import { createFetcherMetrics } from "../metrics.js";
import { createGoogleQuota, quotaPlan } from "./google-quota.js";

describe("Google quota plan", () => {
  it("never lets any 60 s span (plus a second of slack) hold more than the quota", () => {
    for (const qpm of [1, 2, 3, 10, 59, 60, 61, 170, 299, 300, 301, 600, 1_199, 1_200, 2_999, 3_000, 10_000, 123_457, 1_000_000]) {
      const { windowMs, points } = quotaPlan(qpm);
      assert.ok(points >= 1, `${qpm}: at least one request a window`);
      const worst = (Math.floor(61_000 / windowMs) + 1) * points;
      assert.ok(worst <= Math.max(qpm, 1), `${qpm} QPM: up to ${worst} requests in a minute`);
      assert.equal((windowMs / 1000) * 1000, windowMs, "a window survives the limiter's seconds round trip exactly");
    }
  });

  it("spends almost all of the quota", () => {
    for (const qpm of [60, 300, 1_200, 3_000, 1_000_000]) {
      const { windowMs, points } = quotaPlan(qpm);
      assert.ok((points * 60_000) / windowMs >= 0.95 * qpm, `${qpm} QPM`);
    }
  });
});

describe("Google quota limiter", () => {
  const db = useTestDatabase();

  it("makes callers wait for a slot instead of failing, and holds a project back after a 429", async () => {
    const pool = new pg.Pool({ connectionString: db.url, max: 2 });
    const metrics = createFetcherMetrics(createMetricsRegistry("quota-test", { processMetrics: false }));
    try {
      // 600 QPM: one request per ~100 ms window
      const quota = createGoogleQuota({ pool, qpm: 600, basePenaltyMs: 300, maxPenaltyMs: 1_000, metrics });
      await Promise.all(Array.from({ length: 5 }, () => quota.acquire("project-a")));
      assert.ok((await metrics.quotaWaits.get()).values[0].value >= 3, "most of five callers waited for a later window");
      await quota.slowDown("project-a");
      const other = await Promise.race([quota.acquire("project-b").then(() => "b"), new Promise((r) => setTimeout(() => r("late"), 250))]);
      assert.equal(other, "b", "another project is not held back");
      const aborted = new AbortController();
      const waiting = quota.acquire("project-a", { signal: aborted.signal });
      aborted.abort();
      await assert.rejects(waiting, /aborted/);
      assert.equal((await metrics.quotaPenalties.get()).values[0].value, 1);
    } finally {
      await pool.end();
    }
  });
});
