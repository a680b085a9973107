import assert from "node:assert/strict";
import { createTokenCache, type CachedToken } from "./token-cache.js";
import { createLimiter } from "./limiter.js";
import { cooldownMs } from "./token-errors.js";

const entry = (serveUntil: number): CachedToken => ({
  accessToken: "t",
  tenantId: "x",
  expiresAt: serveUntil + 300_000,
  scopes: [],
  serveUntil,
});

describe("token cache", () => {
  it("serves an entry until its serveUntil, capped by the cache TTL", () => {
    const cache = createTokenCache({ ttlMs: 1_000 });
    cache.enable();
    cache.put("c", cache.ticket("c"), entry(10_000), 0);
    assert.ok(cache.get("c", 999));
    assert.equal(cache.get("c", 1_000), undefined);
    cache.put("d", cache.ticket("d"), entry(500), 0);
    assert.equal(cache.get("d", 500), undefined);
  });

  it("refuses a fill that raced with an eviction (a read from before a revoke)", () => {
    const cache = createTokenCache({ ttlMs: 60_000 });
    cache.enable();
    const ticket = cache.ticket("c");
    cache.evict("c");
    cache.put("c", ticket, entry(10_000), 0);
    assert.equal(cache.get("c", 1), undefined);
    cache.put("c", cache.ticket("c"), entry(10_000), 0);
    assert.ok(cache.get("c", 1));
  });

  it("caches nothing while disabled, and forgets everything when disabled", () => {
    const cache = createTokenCache({ ttlMs: 60_000 });
    cache.put("c", cache.ticket("c"), entry(10_000), 0);
    assert.equal(cache.get("c", 1), undefined);
    cache.enable();
    const stale = cache.ticket("d");
    cache.put("c", cache.ticket("c"), entry(10_000), 0);
    cache.disable();
    cache.enable();
    assert.equal(cache.get("c", 1), undefined);
    cache.put("d", stale, entry(10_000), 0);
    assert.equal(cache.get("d", 1), undefined);
  });
});

describe("refresh cooldown", () => {
  it("grows exponentially per failure, capped, with bounded jitter", () => {
    assert.equal(
      cooldownMs(1, 5_000, 300_000, () => 0.5),
      5_000,
    );
    assert.equal(
      cooldownMs(2, 5_000, 300_000, () => 0.5),
      10_000,
    );
    assert.equal(
      cooldownMs(5, 5_000, 300_000, () => 0.5),
      80_000,
    );
    assert.equal(
      cooldownMs(40, 5_000, 300_000, () => 0.5),
      300_000,
    );
    assert.equal(
      cooldownMs(1, 5_000, 300_000, () => 0),
      4_000,
    );
    assert.equal(
      cooldownMs(1, 5_000, 300_000, () => 1),
      6_000,
    );
  });
});

describe("limiter", () => {
  it("runs at most `limit` tasks at once, in arrival order, even when a newcomer arrives as a slot frees", async () => {
    const limiter = createLimiter(2);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const task = (i: number) =>
      limiter.run(async () => {
        running += 1;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setImmediate(resolve));
        order.push(i);
        running -= 1;
        // a newcomer queued the moment this task's slot is handed over
        if (i === 0) void task(99);
      });
    await Promise.all([0, 1, 2, 3, 4].map(task));
    await limiter.run(async () => undefined);
    assert.equal(peak, 2);
    assert.deepEqual(order.slice(0, 5), [0, 1, 2, 3, 4]);
  });
});
