import { createHash } from "node:crypto";
import type pg from "pg";
import { RateLimiterPostgres, RateLimiterRes } from "rate-limiter-flexible";
import type { FetcherMetrics } from "../metrics.js";
import { AbortedError, sleep } from "./sleep.js";

/**
 * Each Google project's requests-per-minute budget, shared by every fetcher instance through one
 * RateLimiterPostgres (one row per project in `google_quota`).
 *
 * Spread, not burst: the minute is cut into short fixed windows of `windowMs` holding `points`
 * requests each, sized so that ANY 60 s span (plus a second of slack for requests that leave
 * late or arrive early) overlaps few enough windows to stay within the quota:
 *   (floor((60 000 + SLACK_MS) / windowMs) + 1) × points ≤ qpm.
 * At 300 QPM this is one request per 205 ms, 2 % under the quota. A window opens at the first
 * request after the previous one expired, so windows never overlap, across instances too.
 * A worker that finds its window full sleeps until it expires and tries again (it waits, it never
 * fails a task for quota).
 */
export interface GoogleQuota {
  /** Resolves when `project` has a free slot; rejects with AbortedError when `signal` fires. */
  acquire(project: string, options?: { signal?: AbortSignal; onWait?: () => void }): Promise<void>;
  /** Google answered 429: hold the project's requests back for a while, on every instance. */
  slowDown(project: string): Promise<void>;
  /** Google answered without 429: the project's backoff starts over. */
  recovered(project: string): void;
  readonly plan: { windowMs: number; points: number };
}

const SLACK_MS = 1_000;
/** Shortest window: below this, the limiter's Postgres row becomes the bottleneck. */
const MIN_WINDOW_MS = 50;

export function quotaPlan(qpm: number): { windowMs: number; points: number } {
  if (qpm <= 1) return { windowMs: exactMs(60_000 + SLACK_MS + 1), points: 1 };
  const planFor = (windowMs: number) => ({ windowMs, points: Math.floor(qpm / (Math.floor((60_000 + SLACK_MS) / windowMs) + 1)) });
  const rate = (plan: { windowMs: number; points: number }) => (plan.points * 60_000) / plan.windowMs;
  // the shortest window that holds one request spreads requests most evenly; at high quotas a
  // longer window of many points allows as many requests with far fewer limiter round trips
  const fine = planFor(exactMs(Math.max(MIN_WINDOW_MS, Math.ceil((60_000 + SLACK_MS) / (qpm - 1)))));
  const coarse = planFor(1_000);
  return coarse.points >= 8 && rate(coarse) >= 0.98 * rate(fine) ? coarse : { ...fine, points: Math.max(1, fine.points) };
}

export interface GoogleQuotaOptions {
  pool: pg.Pool;
  qpm: number;
  /** First hold-back after a 429; doubles on each further 429 in a row, up to `maxPenaltyMs`. */
  basePenaltyMs: number;
  maxPenaltyMs: number;
  metrics?: FetcherMetrics;
}

export function createGoogleQuota(options: GoogleQuotaOptions): GoogleQuota {
  const plan = quotaPlan(options.qpm);
  const limiter = new RateLimiterPostgres({
    storeClient: options.pool,
    storeType: "pool",
    tableName: "google_quota",
    tableCreated: true,
    keyPrefix: "gq",
    points: plan.points,
    duration: plan.windowMs / 1000,
  });
  const strikes = new Map<string, number>();
  // At high quotas a window holds many points: take a few at once and hand them out here until
  // the window closes (never after), so busy workers do not queue on the limiter's row for each
  // request. The window's bound is unchanged: every point used was consumed in that window.
  const batch = Math.min(32, Math.max(1, Math.floor(plan.points / 8)));
  const reservoirs = new Map<string, { left: number; until: number }>();
  const keyOf = (project: string) => (project.length <= 200 ? project : createHash("sha256").update(project).digest("hex"));

  return {
    plan,
    async acquire(project, { signal, onWait } = {}) {
      const key = keyOf(project);
      let waitedMs = 0;
      for (;;) {
        if (signal?.aborted) throw new AbortedError();
        const reservoir = reservoirs.get(key);
        if (reservoir && reservoir.left > 0 && Date.now() < reservoir.until) {
          reservoir.left--;
          return;
        }
        try {
          const res = await limiter.consume(key, batch);
          if (batch > 1) reservoirs.set(key, { left: batch - 1, until: Date.now() + res.msBeforeNext });
          if (waitedMs > 0) options.metrics?.quotaWaitSeconds.observe(waitedMs / 1000);
          return;
        } catch (res) {
          // a full window rejects with a RateLimiterRes; anything else is Postgres failing
          if (!(res instanceof RateLimiterRes)) throw res;
          if (waitedMs === 0) options.metrics?.quotaWaits.inc();
          // a little jitter so waiting workers do not all hit the row at the same instant
          const delay = Math.max(1, res.msBeforeNext) + Math.floor(Math.random() * 5);
          waitedMs += delay;
          onWait?.();
          await sleep(delay, signal);
        }
      }
    },
    async slowDown(project) {
      const n = (strikes.get(project) ?? 0) + 1;
      strikes.set(project, n);
      const penaltyMs = Math.min(options.maxPenaltyMs, options.basePenaltyMs * 2 ** (n - 1));
      reservoirs.delete(keyOf(project));
      options.metrics?.quotaPenalties.inc();
      await limiter.block(keyOf(project), exactMs(Math.ceil(penaltyMs)) / 1000);
    },
    recovered(project) {
      if (strikes.size > 0) strikes.delete(project);
    },
  };
}

/**
 * The limiter takes seconds and stores `Date.now() + seconds * 1000` in a bigint column: a
 * duration whose round trip through seconds is not exact (0.203 s → 202.99999999999997 ms)
 * would fail the insert, so durations are nudged to the next exact millisecond.
 */
function exactMs(ms: number): number {
  let value = ms;
  while ((value / 1000) * 1000 !== value) value++;
  return value;
}
