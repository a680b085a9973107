import assert from "node:assert/strict";
import { loadConfig, type SyncDefaults } from "../../../lib/config/index.js";
import { conflictOf, resolvePolicy, type SyncPolicyRow } from "./policy.js";

const DEFAULTS: SyncDefaults = loadConfig({}).fetcher.sync;
const CHANGED = new Date("2026-03-01T12:00:00Z");

/** A row that sets only `set` (everything else NULL: the default). */
function row(set: Partial<SyncPolicyRow> = {}): SyncPolicyRow {
  return {
    client_id: "0b4c6a1e-2f3d-4e5f-8a9b-0c1d2e3f4a5b",
    tenant_id: null,
    enabled: null,
    incremental_every_seconds: null,
    full_every_seconds: null,
    adaptive: null,
    min_incremental_seconds: null,
    max_incremental_seconds: null,
    updated_at: CHANGED,
    updated_by: "key-1",
    ...set,
  };
}

describe("resolvePolicy", () => {
  it("reports the environment's defaults, with uses_defaults and no change time, for a client with nothing set", () => {
    const expected = {
      enabled: true,
      incrementalEverySeconds: 900,
      fullEverySeconds: 86_400,
      adaptive: true,
      minIncrementalSeconds: 112,
      maxIncrementalSeconds: 7_200,
      takeOverNotifications: false,
      usesDefaults: true,
    };
    assert.deepEqual(resolvePolicy(DEFAULTS, undefined), expected);
    assert.deepEqual(resolvePolicy(DEFAULTS, row()), expected, "a row of NULLs (after a reset) is the defaults too");
  });

  it("takes each value the client set and the default for the others", () => {
    const policy = resolvePolicy(DEFAULTS, row({ enabled: false, full_every_seconds: 3_600, adaptive: false }));
    assert.equal(policy.enabled, false);
    assert.equal(policy.fullEverySeconds, 3_600);
    assert.equal(policy.adaptive, false);
    assert.equal(policy.incrementalEverySeconds, 900);
    assert.equal(policy.usesDefaults, false);
    assert.equal(policy.updatedAt, CHANGED);
  });

  it("scales the default bounds to a client's own mean", () => {
    const hourly = resolvePolicy(DEFAULTS, row({ incremental_every_seconds: 3_600 }));
    assert.deepEqual([hourly.minIncrementalSeconds, hourly.incrementalEverySeconds, hourly.maxIncrementalSeconds], [448, 3_600, 28_800]);
    const often = resolvePolicy(DEFAULTS, row({ incremental_every_seconds: 120 }));
    assert.deepEqual(
      [often.minIncrementalSeconds, often.incrementalEverySeconds, often.maxIncrementalSeconds],
      [60, 120, 960],
      "never below a minute",
    );
  });

  it("keeps min ≤ mean ≤ max: a default yields to what the client set", () => {
    const highMin = resolvePolicy(DEFAULTS, row({ min_incremental_seconds: 1_800 }));
    assert.deepEqual(
      [highMin.minIncrementalSeconds, highMin.incrementalEverySeconds, highMin.maxIncrementalSeconds],
      [1_800, 1_800, 7_200],
    );
    const lowMax = resolvePolicy(DEFAULTS, row({ max_incremental_seconds: 100 }));
    assert.deepEqual([lowMax.minIncrementalSeconds, lowMax.incrementalEverySeconds, lowMax.maxIncrementalSeconds], [100, 100, 100]);
    const meanOverMax = resolvePolicy(DEFAULTS, row({ incremental_every_seconds: 7_200, max_incremental_seconds: 3_600 }));
    assert.deepEqual(
      [meanOverMax.minIncrementalSeconds, meanOverMax.incrementalEverySeconds, meanOverMax.maxIncrementalSeconds],
      [896, 3_600, 3_600],
      "clamped if ever stored",
    );
    const crossed = resolvePolicy(DEFAULTS, row({ min_incremental_seconds: 600, max_incremental_seconds: 300 }));
    assert.ok(
      crossed.minIncrementalSeconds <= crossed.incrementalEverySeconds && crossed.incrementalEverySeconds <= crossed.maxIncrementalSeconds,
    );
  });

  it("keeps min ≤ mean ≤ max whatever the defaults and the row say", () => {
    const values = [null, 1, 60, 112, 900, 3_600, 86_400, 2_592_000];
    const envs = [
      DEFAULTS,
      loadConfig({ SYNC_INCREMENTAL_EVERY_SECONDS: "60", SYNC_MIN_INCREMENTAL_SECONDS: "30", SYNC_MAX_INCREMENTAL_SECONDS: "60" }).fetcher
        .sync,
    ];
    for (const defaults of envs) {
      for (const mean of values) {
        for (const min of values) {
          for (const max of values) {
            const p = resolvePolicy(
              defaults,
              row({ incremental_every_seconds: mean, min_incremental_seconds: min, max_incremental_seconds: max }),
            );
            const where = `defaults ${defaults.incrementalEverySeconds}, mean ${mean}, min ${min}, max ${max}`;
            assert.ok(p.minIncrementalSeconds <= p.incrementalEverySeconds && p.incrementalEverySeconds <= p.maxIncrementalSeconds, where);
            if (!conflictOf({ incremental_every_seconds: mean, min_incremental_seconds: min, max_incremental_seconds: max })) {
              // what the client set and may store stands as it set it
              if (mean !== null) assert.equal(p.incrementalEverySeconds, mean, where);
              if (min !== null) assert.equal(p.minIncrementalSeconds, min, where);
              if (max !== null) assert.equal(p.maxIncrementalSeconds, max, where);
            }
          }
        }
      }
    }
  });
});

describe("conflictOf", () => {
  it("names two values a client set that contradict each other, and only those", () => {
    const of = (mean: number | null, min: number | null, max: number | null) =>
      conflictOf({ incremental_every_seconds: mean, min_incremental_seconds: min, max_incremental_seconds: max });
    assert.match(of(null, 600, 300) ?? "", /min_incremental_seconds \(600\) must not exceed max_incremental_seconds \(300\)/);
    assert.match(of(300, 600, null) ?? "", /min_incremental_seconds \(600\) must not exceed incremental_every_seconds \(300\)/);
    assert.match(of(7_200, null, 3_600) ?? "", /incremental_every_seconds \(7200\) must not exceed max_incremental_seconds \(3600\)/);
    assert.equal(of(900, 60, 3_600), undefined);
    assert.equal(of(60, null, null), undefined);
  });
});
