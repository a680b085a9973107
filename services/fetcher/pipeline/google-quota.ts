import { createHash, randomUUID } from "node:crypto";
import type pg from "pg";
import { RateLimiterPostgres, RateLimiterRes } from "rate-limiter-flexible";
import { QUOTA_LANES, type QuotaLane } from "../../../lib/config/index.js";
import type { FetcherMetrics } from "../metrics.js";
import { AbortedError, sleep } from "./sleep.js";

export type { QuotaLane };

/**
 * Each Google project's requests-per-minute budget, shared by every fetcher instance through one
 * RateLimiterPostgres (one row per project in `google_quota`), and split into lanes.
 *
 * Hard cap, spread, not burst: the minute is cut into short fixed windows of `windowMs` holding
 * `points` requests each, sized so that ANY 60 s span (plus half a second of slack for requests
 * that leave late or arrive early) overlaps few enough windows to stay within the quota:
 *   (floor((60 000 + SLACK_MS) / windowMs) + 2) × points ≤ qpm.
 * At 300 QPM this is one request per 203 ms, 1.5 % under the quota. The windows lie on a fixed grid
 * of the clock (window n is [n × windowMs, (n + 1) × windowMs), limiter key n mod WINDOW_KEYS),
 * the same on every instance: a request that comes late in its window does not move the next one.
 * The grid is each instance's own clock: instances whose clocks differ by a few milliseconds (NTP)
 * shift their windows by as much, which the slack covers many times over.
 * (Windows that opened at their first request lost each window the time until a waiting loop
 * noticed it had closed: its timer, the event loop, the limiter's round trip, 2–3 % of the quota
 * on a busy box.)
 * Nothing below can take a request past this limiter: lanes only decide who asks it next.
 *
 * Lanes (on demand, schedule, reconciliation, notification) share the budget by weight, as in
 * weighted fair queueing across instances. Each lane's recent use is counted in slots, decayed
 * exponentially over `memoryMs` (table `google_quota_lanes`: one row per project, lane and
 * instance, written only by its instance), and a lane with callers waiting marks its row so.
 * A lane L holds back while another lane M is waiting whose use per share stays lower even with
 * a small margin (one slot at low quotas): (use_M + margin) / share_M < use_L / share_L. So
 * - a lane alone (or with the others idle) takes the whole budget: an idle lane lends its share;
 * - lanes that all have work converge on their shares;
 * - a lane back after a quiet spell has the lowest use per share and goes first: an on-demand
 *   call waits a window or two even while scheduled work saturates the project.
 * Within an instance one loop per project asks the limiter for all local callers (per window,
 * one read/write of the lane rows and one consume, instead of a consume per waiting caller) and
 * hands slots out the same way: lowest use per share first, ties by LANE_ORDER (on demand
 * first), FIFO within a lane. Points batched at high quotas go to whichever local caller is
 * next: they are spent already, and unused they would be lost.
 * A caller waits, it never fails for quota.
 */
export interface GoogleQuota {
  /** Resolves when `project` has a slot for `lane` (default on_demand); rejects with AbortedError when `signal` fires. */
  acquire(project: string, options?: AcquireOptions): Promise<QuotaSlot>;
  /** Google answered 429: hold the project's requests back for a while, on every instance. */
  slowDown(project: string): Promise<void>;
  /** Google answered without 429: the project's backoff starts over. */
  recovered(project: string): void;
  /** Each lane's recent use, as a fraction of one project's QPM (exponentially weighted over `memoryMs`), summed over projects. */
  laneUse(): Promise<Record<QuotaLane, number>>;
  readonly plan: QuotaPlan;
  /** Each lane's share (normalised to 1) and how long lane use is remembered. */
  readonly lanes: Readonly<Record<QuotaLane, number>>;
  readonly memoryMs: number;
}

/** A granted request slot. */
export interface QuotaSlot {
  /** When the window the slot was counted in ends (epoch ms): a grant can come after it on a busy box. */
  readonly windowEnd: number;
  /**
   * The caller did not send its request after all: the slot goes to the project's next caller
   * here while its window is still open (it was consumed from the limiter: unused, it is lost).
   */
  release(): void;
}

export interface AcquireOptions {
  lane?: QuotaLane;
  signal?: AbortSignal;
  /** Called while the caller waits (at most about once a second): a task's heartbeat. */
  onWait?: () => void;
}

/**
 * How late after its window a request may reach Google. Measured with ten projects at 300 QPM on
 * two fetchers, the 2-core box CPU-bound: calls leave a median 10 ms into their window, 61 ms at
 * the 99th percentile, the latest 13 ms after it closed (a second of slack cost each project 1 %
 * of its quota for nothing).
 */
const SLACK_MS = 500;
/** Limiter keys per project, one per grid window in turn: a key comes back long after its window expired. */
const WINDOW_KEYS = 4;
/** Windows of many points for high quotas, longest first. */
const COARSE_WINDOWS_MS = [1_000, 500, 250];
/** Shortest window: below this, the limiter's Postgres row becomes the bottleneck. */
const MIN_WINDOW_MS = 50;
/** Ties between lanes (all idle, say) go in this order. */
export const LANE_ORDER: readonly QuotaLane[] = ["on_demand", "notification", "schedule", "reconciliation"];
/** A lane of weight 0 still gets slots nobody else wants. */
const MIN_SHARE = 1e-6;

export interface QuotaPlan {
  windowMs: number;
  points: number;
  /**
   * Windows on a fixed grid (`floor(now / windowMs)`, one limiter key per window, a ring of
   * WINDOW_KEYS keys per project), so a late request never moves the next window. Only a quota
   * of one request a minute keeps windows that open at their first request (a grid window may
   * hold a request at its very end and the next one at the next window's start).
   */
  aligned: boolean;
}

export function quotaPlan(qpm: number): QuotaPlan {
  if (qpm <= 1) return { windowMs: exactMs(60_000 + SLACK_MS + 1), points: 1, aligned: false };
  // any 60 s span (plus the slack) touches at most floor(span / window) + 2 grid windows
  const planFor = (windowMs: number) => ({
    windowMs,
    points: Math.floor(qpm / (Math.floor((60_000 + SLACK_MS) / windowMs) + 2)),
    aligned: true,
  });
  const rate = (plan: QuotaPlan) => (plan.points * 60_000) / plan.windowMs;
  // the shortest window that holds one request spreads requests most evenly; at high quotas a
  // longer window of many points allows as many requests with far fewer limiter round trips: the
  // longest of these whose rate is within 2 % of the best
  const fineMs = exactMs(Math.max(MIN_WINDOW_MS, Math.floor((60_000 + SLACK_MS) / (qpm - 1)) + 1));
  const fine = planFor(fineMs);
  fine.points = Math.max(1, fine.points);
  const coarse = COARSE_WINDOWS_MS.map(planFor).filter((plan) => plan.points >= 8);
  const best = Math.max(rate(fine), ...coarse.map(rate));
  return coarse.find((plan) => rate(plan) >= 0.98 * best) ?? fine;
}

export interface GoogleQuotaOptions {
  pool: pg.Pool;
  qpm: number;
  /** First hold-back after a 429; doubles on each further 429 in a row, up to `maxPenaltyMs`. */
  basePenaltyMs: number;
  maxPenaltyMs: number;
  /** Lane weights (GOOGLE_QUOTA_LANES; normalised here too). Default: equal. */
  lanes?: Readonly<Record<QuotaLane, number>>;
  /** How long lane use is remembered (time constant of its decay). Default: 10 s, or 50 slots at low quotas. */
  memoryMs?: number;
  metrics?: FetcherMetrics;
}

interface Waiter {
  since: number;
  waited: boolean;
  beatAt: number;
  onWait?: () => void;
  resolve(slot: QuotaSlot): void;
  reject(err: unknown): void;
}

interface LaneState {
  /** This instance's callers, first come first served. */
  queue: Waiter[];
  /** Slots this instance granted the lane, decayed to `mineAt`; `granted` counts grants, `published` is the count last written to its row. */
  mine: number;
  mineAt: number;
  granted: number;
  published: number;
  /** Other instances' use of the lane (decayed to `othersAt`) and their latest waiting mark, as last read. */
  others: number;
  othersAt: number;
  othersWaitingUntil: number;
  /** The waiting mark in this instance's row (0: not waiting). */
  waitingUntil: number;
}

interface ProjectState {
  key: string;
  lanes: Record<QuotaLane, LaneState>;
  /** Points taken from the limiter and not handed out yet, usable until the window closes (never after). */
  reservoir: { left: number; until: number };
  /** When the limiter's current window closes, as its last answer said. */
  windowEnd: number;
  pumping: boolean;
  /** Cuts the loop's sleep short when its last caller leaves. */
  wake?: AbortController;
  /** When the lanes were last read; the write that clears this instance's marks once idle (pending, running). */
  syncedAt: number;
  idleTimer?: NodeJS.Timeout;
  idleSync?: Promise<void>;
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
  const shares = normaliseShares(options.lanes);
  const memoryMs = options.memoryMs ?? Math.max(10_000, Math.ceil((50 * plan.windowMs) / plan.points));
  // a waiting mark outlives a few windows without refresh, so a crashed instance's stops counting
  const markMs = Math.max(1_000, 4 * plan.windowMs);
  // a lane holding back looks again this often (it does not ask the limiter meanwhile)
  const deferMs = Math.min(100, Math.max(10, Math.floor(plan.windowMs / 2)));
  // the lanes are read (and this instance's rows written) at most this often: once a window at
  // low quotas (one request a window: at 300 QPM every 203 ms; every 25 ms, as before, cost a
  // statement per project and instance at nearly every turn of its loop, a few a window, which
  // with ten projects at once was much of the fetchers' quota work), every 25 ms at high ones
  // (many requests a window); a
  // lane whose callers are all served clears its mark this long after, unless callers come
  // back meanwhile (a worker between two calls)
  const syncEveryMs =
    plan.points > 1 ? Math.min(25, Math.max(1, Math.floor(plan.windowMs / 4))) : Math.max(25, Math.min(250, plan.windowMs));
  // At high quotas a window holds many points: take a few at once and hand them out here until
  // the window closes (never after), so busy workers do not queue on the limiter's row for each
  // request. The window's bound is unchanged: every point used was consumed in that window.
  const batch = Math.min(32, Math.max(1, Math.floor(plan.points / 8)));
  const margin = 2 * batch - 1;
  const instance = randomUUID();
  const strikes = new Map<string, number>();
  const projects = new Map<string, ProjectState>();
  const keyOf = (project: string) => (project.length <= 200 ? project : createHash("sha256").update(project).digest("hex"));
  const metrics = options.metrics;
  /** Every limiter key of a project: one per grid window in turn (or the one key of windows that open at their first request). */
  const limiterKeys = (key: string) => (plan.aligned ? Array.from({ length: WINDOW_KEYS }, (_, i) => `${key}:${i}`) : [key]);
  /** The limiter key of the window a request at `now` falls in, and when that window ends (0: the limiter says). */
  const windowAt = (p: ProjectState, now: number): { key: string; end: number } => {
    if (!plan.aligned) return { key: p.key, end: 0 };
    const n = Math.floor(now / plan.windowMs);
    return { key: `${p.key}:${n % WINDOW_KEYS}`, end: (n + 1) * plan.windowMs };
  };

  const decay = (value: number, at: number, now: number) => (value === 0 ? 0 : value * Math.exp(-Math.max(0, now - at) / memoryMs));
  const use = (l: LaneState, now: number) => decay(l.mine, l.mineAt, now) + decay(l.others, l.othersAt, now);
  const share = (lane: QuotaLane) => Math.max(MIN_SHARE, shares[lane]);
  const waiting = (l: LaneState, now: number) => l.queue.length > 0 || l.othersWaitingUntil > now;
  const waiters = (p: ProjectState) => QUOTA_LANES.reduce((n, lane) => n + p.lanes[lane].queue.length, 0);

  function projectOf(key: string): ProjectState {
    let p = projects.get(key);
    if (!p) {
      const lanes = Object.fromEntries(
        QUOTA_LANES.map((lane) => [
          lane,
          { queue: [], mine: 0, mineAt: 0, granted: 0, published: 0, others: 0, othersAt: 0, othersWaitingUntil: 0, waitingUntil: 0 },
        ]),
      ) as unknown as Record<QuotaLane, LaneState>;
      p = { key, lanes, reservoir: { left: 0, until: 0 }, windowEnd: 0, pumping: false, syncedAt: 0 };
      projects.set(key, p);
    }
    return p;
  }

  /**
   * Whether `lane` should let a waiting lane (here or on another instance) go first: one still
   * lower per share after `margin` more slots. The margin (one slot, or about two batches at high
   * quotas) covers grants another instance made since it last wrote them, so two lanes never
   * both hold back for each other.
   */
  function holdsBack(p: ProjectState, lane: QuotaLane, now: number): boolean {
    const mine = use(p.lanes[lane], now) / share(lane);
    return QUOTA_LANES.some(
      (other) => other !== lane && waiting(p.lanes[other], now) && (use(p.lanes[other], now) + margin) / share(other) < mine,
    );
  }

  /** The local lane to serve next: lowest use per share after one more slot, among those not holding back if `eligibleOnly`. */
  function nextLane(p: ProjectState, now: number, eligibleOnly: boolean): QuotaLane | undefined {
    let best: QuotaLane | undefined;
    let bestTag = Infinity;
    for (const lane of LANE_ORDER) {
      const l = p.lanes[lane];
      if (l.queue.length === 0 || (eligibleOnly && holdsBack(p, lane, now))) continue;
      const tag = (use(l, now) + 1) / share(lane);
      if (best === undefined || tag < bestTag) [best, bestTag] = [lane, tag];
    }
    return best;
  }

  /** Counts one slot granted to `lane` here (published at the next sync). */
  function count(p: ProjectState, lane: QuotaLane, now: number): void {
    const l = p.lanes[lane];
    l.mine = decay(l.mine, l.mineAt, now) + 1;
    l.mineAt = now;
    l.granted++;
    metrics?.quotaUsed.inc({ lane });
  }

  function grant(p: ProjectState, lane: QuotaLane, now: number): void {
    const waiter = p.lanes[lane].queue.shift();
    if (!waiter) return;
    count(p, lane, now);
    if (waiter.waited) metrics?.quotaWaitSeconds.observe((now - waiter.since) / 1000);
    waiter.resolve(slotOf(p, p.windowEnd));
  }

  /** A slot of the window ending at `until`; released before then, it goes back to the reservoir. */
  function slotOf(p: ProjectState, until: number): QuotaSlot {
    return {
      windowEnd: until,
      release() {
        const now = Date.now();
        if (now >= until) return;
        if (p.reservoir.until === until && now < p.reservoir.until) p.reservoir.left++;
        else if (p.reservoir.until <= now) p.reservoir = { left: 1, until };
        else return;
        // the loop may be sleeping until the next window: the slot is for a caller now
        if (waiters(p) > 0) p.wake?.abort();
      },
    };
  }

  /** Hands out up to `points` slots to local callers; returns how many are left. */
  function handOut(p: ProjectState, points: number, eligibleFirst: boolean): number {
    let left = points;
    while (left > 0) {
      const now = Date.now();
      const lane = (eligibleFirst ? nextLane(p, now, true) : undefined) ?? nextLane(p, now, false);
      if (!lane) break;
      grant(p, lane, now);
      left--;
    }
    return left;
  }

  /** Whether this instance's rows say something its state no longer does. */
  const stale = (p: ProjectState) =>
    QUOTA_LANES.some(
      (lane) => p.lanes[lane].published !== p.lanes[lane].granted || (p.lanes[lane].waitingUntil !== 0) !== p.lanes[lane].queue.length > 0,
    );

  /**
   * Writes this instance's changed rows (use granted since the last write, waiting marks set,
   * refreshed or cleared) and reads the other instances' rows, in one statement.
   */
  async function sync(p: ProjectState): Promise<void> {
    const now = Date.now();
    const changed: { lane: QuotaLane; usage: number; until: number; granted: number }[] = [];
    for (const lane of QUOTA_LANES) {
      const l = p.lanes[lane];
      const until = l.queue.length === 0 ? 0 : l.waitingUntil - now > markMs / 2 ? l.waitingUntil : now + markMs;
      if (l.published === l.granted && until === l.waitingUntil) continue;
      changed.push({ lane, usage: decay(l.mine, l.mineAt, now), until, granted: l.granted });
    }
    const { rows } = await options.pool.query<{ lane: string; usage: number; at: string; waiting_until: string }>({
      name: "google-quota-lanes-sync",
      text: `WITH mine AS (
          INSERT INTO google_quota_lanes (project, lane, instance, usage, at, waiting_until)
          SELECT $1, r.lane, $2::uuid, r.usage, $3, r.until FROM unnest($4::text[], $5::float8[], $6::bigint[]) AS r(lane, usage, until)
          ON CONFLICT (project, lane, instance) DO UPDATE SET usage = EXCLUDED.usage, at = EXCLUDED.at, waiting_until = EXCLUDED.waiting_until
        ), gone AS (
          -- rows of instances long gone (their use has decayed to nothing, their mark expired)
          DELETE FROM google_quota_lanes WHERE project = $1 AND instance <> $2::uuid AND at < $7 AND waiting_until < $3
        )
        SELECT lane, usage, at, waiting_until FROM google_quota_lanes WHERE project = $1 AND instance <> $2::uuid`,
      values: [
        p.key,
        instance,
        now,
        changed.map((c) => c.lane),
        changed.map((c) => c.usage),
        changed.map((c) => c.until),
        now - 50 * memoryMs,
      ],
    });
    for (const c of changed) {
      // a slot granted meanwhile (from the reservoir) is written next time
      p.lanes[c.lane].published = c.granted;
      p.lanes[c.lane].waitingUntil = c.until;
    }
    for (const lane of QUOTA_LANES) Object.assign(p.lanes[lane], { others: 0, othersAt: now, othersWaitingUntil: 0 });
    for (const row of rows) {
      const l = p.lanes[row.lane as QuotaLane];
      if (!l) continue;
      l.others += decay(Number(row.usage), Number(row.at), now);
      l.othersWaitingUntil = Math.max(l.othersWaitingUntil, Number(row.waiting_until));
    }
    p.syncedAt = now;
  }

  /** Once the loop is idle: clear this instance's marks and write its use, a little later (callers often come right back). */
  function syncWhenIdle(p: ProjectState): void {
    if (p.idleTimer || !stale(p)) return;
    p.idleTimer = setTimeout(() => {
      p.idleTimer = undefined;
      if (p.pumping) return;
      if (p.idleSync) return void p.idleSync.then(() => syncWhenIdle(p));
      p.idleSync = sync(p)
        .catch(() => undefined)
        .finally(() => (p.idleSync = undefined));
    }, syncEveryMs);
    p.idleTimer.unref();
  }

  /** The loop's sleep: every caller still here has waited (metrics, heartbeat). */
  async function pause(p: ProjectState, ms: number): Promise<void> {
    const now = Date.now();
    for (const lane of QUOTA_LANES) {
      for (const waiter of p.lanes[lane].queue) {
        if (!waiter.waited) {
          waiter.waited = true;
          metrics?.quotaWaits.inc();
        }
        if (now - waiter.beatAt >= 1_000) {
          waiter.beatAt = now;
          waiter.onWait?.();
        }
      }
    }
    // a slot released while the loop was busy elsewhere: no sleep, it goes out now
    if (p.reservoir.left > 0 && now < p.reservoir.until) return;
    p.wake = new AbortController();
    await sleep(ms, p.wake.signal).catch(() => undefined);
    p.wake = undefined;
  }

  /** Serves the project's local callers until none is left; one loop per project and instance. */
  async function pump(p: ProjectState): Promise<void> {
    p.pumping = true;
    clearTimeout(p.idleTimer);
    p.idleTimer = undefined;
    // woken at a window's edge: ask the limiter first and sync the lanes after, since the
    // window opens only with the first request, and every millisecond before it is lost
    let atEdge = false;
    try {
      while (waiters(p) > 0) {
        if (p.reservoir.left > 0 && Date.now() < p.reservoir.until) {
          p.reservoir.left = handOut(p, p.reservoir.left, false);
          continue;
        }
        if (p.idleSync) await p.idleSync;
        // a lane that has just started waiting here is published at once, whatever the period:
        // another instance serving a busier lane must learn of it to hold back
        const unmarked = QUOTA_LANES.some((lane) => p.lanes[lane].queue.length > 0 && p.lanes[lane].waitingUntil === 0);
        if (!atEdge && (unmarked || Date.now() - p.syncedAt >= syncEveryMs)) await sync(p);
        atEdge = false;
        const now = Date.now();
        const eligible = QUOTA_LANES.reduce((n, lane) => n + (holdsBack(p, lane, now) ? 0 : p.lanes[lane].queue.length), 0);
        if (eligible === 0) {
          // look again soon, and at the latest when the next window opens (windows follow each
          // other back to back while the project is busy): a window nobody opens is lost
          let end = plan.aligned ? windowAt(p, now).end : p.windowEnd;
          if (end > 0 && end <= now) end += Math.ceil((now - end) / plan.windowMs) * plan.windowMs;
          if (waiters(p) > 0) await pause(p, (end > now ? Math.min(deferMs, end - now) : deferMs) + Math.floor(Math.random() * 3));
          continue;
        }
        const points = batch;
        const window = windowAt(p, now);
        let res: RateLimiterRes;
        try {
          res = await limiter.consume(window.key, points);
        } catch (err) {
          // a full window rejects with a RateLimiterRes; anything else is Postgres failing
          if (!(err instanceof RateLimiterRes)) throw err;
          // a grid window another instance filled: wait for the next one; a penalty (slowDown,
          // every key blocked) longer than a window: wait for its end (a shorter one is waited
          // out window by window)
          const after = Date.now();
          p.windowEnd = window.end > 0 && err.msBeforeNext <= plan.windowMs ? window.end : after + err.msBeforeNext;
          // a little jitter so the instances' loops do not all hit the row at the same instant
          await pause(p, Math.max(1, p.windowEnd - after) + Math.floor(Math.random() * 5));
          atEdge = true;
          continue;
        }
        // a consume answered after its grid window closed: its points are that window's and go to
        // nobody (the limiter's record starts at its first consume, a little after the window's
        // start, and may already have expired for a late one: handed out, it made two grants
        // counted in one window on a box busy with the whole suite)
        if (window.end > 0 && Date.now() >= window.end) continue;
        // the points are the window's: handed out now, or kept for callers only until it ends
        // (with any a caller of the same window released meanwhile)
        p.windowEnd = window.end > 0 ? window.end : Date.now() + res.msBeforeNext;
        const released = p.reservoir.until === p.windowEnd && Date.now() < p.reservoir.until ? p.reservoir.left : 0;
        p.reservoir = { left: handOut(p, points + released, true), until: p.windowEnd };
      }
    } catch (err) {
      // every caller waiting now gets the error, as each would have from its own query
      for (const lane of QUOTA_LANES) for (const waiter of p.lanes[lane].queue.splice(0)) waiter.reject(err);
    } finally {
      p.pumping = false;
      syncWhenIdle(p);
    }
  }

  const quota: GoogleQuota = {
    plan,
    lanes: shares,
    memoryMs,
    acquire(project, { lane = "on_demand", signal, onWait } = {}) {
      if (signal?.aborted) return Promise.reject(new AbortedError());
      const p = projectOf(keyOf(project));
      const now = Date.now();
      if (waiters(p) === 0 && p.reservoir.left > 0 && now < p.reservoir.until) {
        p.reservoir.left--;
        count(p, lane, now);
        if (!p.pumping) syncWhenIdle(p);
        return Promise.resolve(slotOf(p, p.reservoir.until));
      }
      return new Promise<QuotaSlot>((resolve, reject) => {
        const queue = p.lanes[lane].queue;
        const onAbort = () => {
          const i = queue.indexOf(waiter);
          if (i < 0) return;
          queue.splice(i, 1);
          if (waiters(p) === 0) p.wake?.abort();
          reject(new AbortedError());
        };
        const waiter: Waiter = {
          since: now,
          waited: false,
          beatAt: 0,
          onWait,
          resolve: (slot) => {
            signal?.removeEventListener("abort", onAbort);
            resolve(slot);
          },
          reject: (err) => {
            signal?.removeEventListener("abort", onAbort);
            reject(err);
          },
        };
        queue.push(waiter);
        signal?.addEventListener("abort", onAbort, { once: true });
        if (!p.pumping) void pump(p);
      });
    },
    async slowDown(project) {
      const n = (strikes.get(project) ?? 0) + 1;
      strikes.set(project, n);
      const penaltyMs = Math.min(options.maxPenaltyMs, options.basePenaltyMs * 2 ** (n - 1));
      const p = projects.get(keyOf(project));
      if (p) p.reservoir = { left: 0, until: 0 };
      metrics?.quotaPenalties.inc();
      const seconds = exactMs(Math.ceil(penaltyMs)) / 1000;
      // every window's key: the project waits out the penalty whichever window comes next
      await Promise.all(limiterKeys(keyOf(project)).map((key) => limiter.block(key, seconds)));
    },
    recovered(project) {
      if (strikes.size > 0) strikes.delete(project);
    },
    async laneUse() {
      const now = Date.now();
      const { rows } = await options.pool.query<{ lane: string; usage: number; at: string }>(
        "SELECT lane, usage, at FROM google_quota_lanes",
      );
      const out = Object.fromEntries(QUOTA_LANES.map((lane) => [lane, 0])) as Record<QuotaLane, number>;
      // a lane granted r slots a millisecond for long enough holds r × memoryMs of use
      const perUse = 60_000 / memoryMs / Math.max(1, options.qpm);
      for (const row of rows) if (row.lane in out) out[row.lane as QuotaLane] += decay(Number(row.usage), Number(row.at), now) * perUse;
      return out;
    },
  };
  if (metrics) metrics.quotaLaneUse.read = () => quota.laneUse();
  return quota;
}

/** Weights to shares that add up to 1; none given (or all 0): equal shares. */
function normaliseShares(weights: Readonly<Record<QuotaLane, number>> | undefined): Readonly<Record<QuotaLane, number>> {
  const total = weights ? QUOTA_LANES.reduce((sum, lane) => sum + Math.max(0, weights[lane] ?? 0), 0) : 0;
  return Object.freeze(
    Object.fromEntries(
      QUOTA_LANES.map((lane) => [lane, total > 0 ? Math.max(0, weights![lane] ?? 0) / total : 1 / QUOTA_LANES.length]),
    ) as Record<QuotaLane, number>,
  );
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
