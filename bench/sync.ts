// The sync scheduler's benchmark (figures only, nothing asserted): how soon a change at Google
// becomes an event on REVIEWS when nobody asks, with adaptive (square-root) intervals against
// one uniform interval at the same budget, and how well the schedule spends the quota.
//
// Workload. Several Google projects (one emulator and one OAuth client each, behind one origin:
// harness/google-router.ts), each with its locations; every location's reviews change as a
// Poisson process whose rate is a stratified quantile (shuffled over locations, seeded) of a
// power law p(λ) ∝ λ^-1.5 spanning 1000 × (BENCH_SYNC_RATES=loguniform: log-uniform instead).
// The bench edits reviews at the emulator at those rates, each edit a review that has not
// changed for ten days (so the distinct reviews changed per location, which is what the
// scheduler counts, grow with the rate), and times each edit until its UPDATED event arrives on
// an ordered consumer of REVIEWS (matched by review name and comment): the detection delay.
//
// Time is scaled. The policy's mean interval is SYNC_INCREMENTAL_EVERY_SECONDS = `interval`
// seconds (a few seconds instead of 900; its bounds in the defaults' proportions, 1/8 × and
// 8 ×), SYNC_TICK_MS is 250, and GOOGLE_QPM (and Google's quota) is set so that one pass per
// location per mean interval (a pass is one reviews.list call) asks for LOAD of the budget: the
// budget binds. The 7-day window over which the scheduler observes rates is not scaled: the
// square-root rule needs only relative rates, and each location has a week of history at its
// rate (reviews dated over the last 7 days, a Poisson count averaging one for the quietest and
// 1000 for the busiest), so the scheduler starts from the rates a week of running would have
// shown it; the run's own edits add to them at the same proportions.
//
// The same workload runs twice, each time from a fresh start: once with SYNC_ADAPTIVE=false
// (one uniform interval), once with SYNC_ADAPTIVE=true, at the same GOOGLE_QPM and mean
// interval. Each run: Google seeded, the services started with a large quota for the first full
// fetch of every client (on demand, the scheduler off), then the fetcher restarted with the
// scheduler on and the run's quota; Google's counters are reset there, so the quota figures
// cover only the scheduled run. The edits start, the schedule settles for one mean interval, the
// edits of the next `window` seconds are timed (the run goes on until each has been seen, for at
// most `drain` seconds). The quota figures come from the emulators' own counters: API requests
// per project per minute in the timed window against GOOGLE_QPM; then, in the second run, with an
// on-demand full fetch of every client on top of the schedule (work due beyond the budget); and
// the highest count in any sliding 60 s window against the quota, with Google's 429s.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import pg from "pg";
import { startGoogleEmulator, type EmulatorClient, type GoogleEmulator } from "../emulator/index.js";
import { mulberry32, type Rng } from "../emulator/prng.js";
import { FetchMode, JobStatus } from "../gen/reviewflow/fetcher/v1/fetcher_pb.js";
import { ReviewEventType } from "../gen/reviewflow/reviews/v1/events_pb.js";
import { dropDatabase } from "../lib/db/index.js";
import { deleteStreams, streamNames } from "../lib/nats/index.js";
import { tailReviews } from "../scripts/support/review-tail.js";
import { scratchDatabaseUrl } from "./harness/environment.js";
import { connectProjects } from "./harness/projects.js";
import { startGoogleRouter, type GoogleRouter } from "./harness/google-router.js";
import { statusName, waitForJob } from "./harness/jobs.js";
import { startNatsServer } from "./harness/nats-server.js";
import { startStack, type Stack } from "./harness/stack.js";
import { count } from "./harness/table.js";
import type { BenchFn, BenchRow, BenchSize } from "./types.js";

interface Sizes {
  /** Google projects, each its own emulator and client. */
  projects: number;
  locationsPerProject: number;
  /** The policy's mean interval (s); GOOGLE_QPM follows from it. */
  interval: number;
  /** Expected edits in one uniform interval at the busiest location (kept under a page of 50). */
  busiestPerInterval: number;
  /** Expected changes in the week of history of the quietest location (the busiest: SPAN ×). */
  quietestHistory: number;
  /** Seconds whose edits are timed, per run. */
  window: number;
  /** At most this long after the window for its edits to be seen (the longest interval is 8 × the mean). */
  drain: number;
  /** Seconds the quota is watched with an on-demand full fetch of every client on top of the schedule. */
  saturation: number;
  fetchConcurrency: number;
}

const SIZES: Record<BenchSize, Sizes> = {
  full: {
    projects: 3,
    locationsPerProject: 60,
    interval: 15,
    busiestPerInterval: 30,
    quietestHistory: 1,
    window: 60,
    drain: 130,
    saturation: 15,
    fetchConcurrency: 32,
  },
  reduced: {
    projects: 2,
    locationsPerProject: 6,
    interval: 2,
    busiestPerInterval: 4,
    quietestHistory: 0.05,
    window: 3,
    drain: 6,
    saturation: 2,
    fetchConcurrency: 16,
  },
};

/** Rates span this factor between the quietest and the busiest location. */
const SPAN = 1_000;
const TICK_MS = 250;
/**
 * What the uniform schedule asks of the budget. Just under 1: the limiter hands out at most
 * ~0.98 × GOOGLE_QPM (its slack for late requests), and a schedule asking for more would build
 * an ever longer line, whose wait would swamp what is measured.
 */
const LOAD = 0.95;
/** GOOGLE_QPM and Google's quota for the first full fetch, before the scheduled run. */
const LOADING_QPM = 100_000;
const SEED = 20261202;
const DAY_MS = 86_400_000;

type Mode = "uniform" | "adaptive";
type Phase = "settle" | "window" | "after";

/** What both runs share: the locations' rates (by index, project-major) and the seeds. */
interface Workload {
  spec: Sizes;
  kind: "power" | "loguniform";
  qpm: number;
  /** Changes per second of location i. */
  rates: number[];
}

interface Location {
  name: string;
  project: number;
  rate: number;
  /** Reviews ten days old, edited in turn; `next` is the first not edited yet. */
  reviews: string[];
  next: number;
}

interface Edit {
  review: string;
  location: number;
  phase: Phase;
  at: number;
  seenAt?: number;
}

interface Sample {
  at: number;
  /** API requests so far, per project. */
  requests: number[];
}

interface RunResult {
  mode: Mode;
  edits: Edit[];
  window: { from: number; to: number };
  samples: Sample[];
  /** The on-demand full fetches on top of the schedule, when the run had them. */
  saturation?: { from: number; to: number };
  peak: number;
  over: number;
  rejected: number;
  passes: string;
  intervals: string;
  /** What the schedule's intervals ask of GOOGLE_QPM (Σ 1/interval per project, the lowest project's). */
  asks: number;
  otherEvents: number;
  reused: number;
  unrouted: number;
  history: number;
}

export const runSyncBench: BenchFn = async ({ size, log = () => undefined }) => {
  // BENCH_SYNC_SIZES='{"window":30}' overrides a size's fields (for trying other shapes)
  const spec: Sizes = { ...SIZES[size], ...(JSON.parse(process.env.BENCH_SYNC_SIZES ?? "{}") as Partial<Sizes>) };
  const kind = process.env.BENCH_SYNC_RATES === "loguniform" ? "loguniform" : "power";
  const qpm = Math.round((spec.locationsPerProject * 60) / spec.interval / LOAD);
  const rates = drawRates(spec, kind);
  const workload: Workload = { spec, kind, qpm, rates };
  const ideal = idealRatio(rates);
  const total = rates.reduce((a, b) => a + b, 0);
  log(
    `${spec.projects} projects × ${spec.locationsPerProject} locations, rates ${kind === "power" ? "a power law λ^-1.5" : "log-uniform"} over ${SPAN} × ` +
      `(${fmt(Math.min(...rates) * 3600)}–${fmt(Math.max(...rates) * 3600)} changes/h, ${fmt(total)} edits/s in all); mean interval ${spec.interval} s, ` +
      `GOOGLE_QPM ${qpm} per project (the schedule asks for ${LOAD}); ideal √-rule ratio for these rates ${ideal.toFixed(2)}`,
  );
  const nats = await startNatsServer();
  try {
    const u = await runOnce("uniform", workload, nats.url, false, log);
    const a = await runOnce("adaptive", workload, nats.url, true, log);
    return figures(workload, ideal, u, a, log);
  } finally {
    await nats.close();
  }
};

function figures(workload: Workload, ideal: number, u: RunResult, a: RunResult, log: (line: string) => void): BenchRow[] {
  const { spec, qpm } = workload;
  const du = delays(u.edits);
  const da = delays(a.edits);
  const qu = quotaUse(u.samples, u.window, qpm);
  const qa = quotaUse(a.samples, a.window, qpm);
  const qs = a.saturation ? quotaUse(a.samples, a.saturation, qpm) : undefined;
  const ratio = da.mean / du.mean;
  const used = Math.min(qu.fraction, qa.fraction, qs?.fraction ?? Number.POSITIVE_INFINITY);
  const peak = Math.max(u.peak, a.peak);
  const over = u.over + a.over;
  const rejected = u.rejected + a.rejected;
  for (const r of [u, a]) {
    log(
      `${r.mode}: ${r.otherEvents} other events, ${r.reused} reviews edited twice, ${r.unrouted} Google requests routed by default, ` +
        `${count(r.history)} changes of history; peak ${r.peak} requests in any 60 s, ${r.rejected} × 429`,
    );
  }
  const label = `${spec.projects} projects × ${spec.locationsPerProject} locations, rates over ${SPAN} ×`;
  const delayFigure = (d: ReturnType<typeof delays>, q: ReturnType<typeof quotaUse>) =>
    `mean ${fmt(d.mean)} s, p95 ${fmt(d.p95)} s (${count(d.n)} edits${d.missed ? `, ${d.missed} never seen` : ""}; ${count(q.requests)} requests)`;
  return [
    {
      name: `detection delay, one uniform ${spec.interval} s interval (SYNC_ADAPTIVE=false), ${label}`,
      figure: delayFigure(du, qu),
    },
    {
      name: `detection delay, adaptive √-rule intervals (SYNC_ADAPTIVE=true), same ${qpm} QPM per project`,
      figure: delayFigure(da, qa),
      ratio: `${ratio.toFixed(2)} × uniform mean (ideal for these rates ${ideal.toFixed(2)})`,
      target: "≤ 0.5",
      met: ratio <= 0.5 && da.missed === 0 && du.missed === 0,
    },
    {
      name: `quota used while work is due, per project, vs GOOGLE_QPM ${qpm}`,
      figure:
        `schedule alone: uniform ${qu.fraction.toFixed(2)} (asks ${u.asks.toFixed(2)}), adaptive ${qa.fraction.toFixed(2)} (asks ${a.asks.toFixed(2)})` +
        (qs
          ? `; + an on-demand full fetch of every project on top: ${qs.perProject.map((f) => f.toFixed(2)).join(" / ")} per project`
          : ""),
      ratio: `${used.toFixed(2)} × budget (lowest)`,
      target: "≥ 0.9",
      met: used >= 0.9,
    },
    {
      name: `60 s windows over Google's quota (${qpm}/min per project), both scheduled runs`,
      figure: `peak ${peak} requests in any 60 s; ${rejected} × 429`,
      ratio: `${over} windows over`,
      target: "0",
      met: over === 0 && rejected === 0,
    },
  ];
}

async function runOnce(
  mode: Mode,
  workload: Workload,
  natsUrl: string,
  saturate: boolean,
  log: (line: string) => void,
): Promise<RunResult> {
  const { spec, qpm } = workload;
  const started = performance.now();
  const since = () => `${fmt((performance.now() - started) / 1000)} s`;
  const clock = { shiftMs: 0 };
  const emulators: GoogleEmulator[] = [];
  const clients: EmulatorClient[] = [];
  const logDir = mkdtempSync(path.join(os.tmpdir(), `rf-bench-sync-${mode}-`));
  const databaseUrl = scratchDatabaseUrl(`bench-sync-${mode}`);
  const namespace = `sync${randomBytes(3).toString("hex")}`;
  const names = streamNames(namespace);
  let stack: Stack | undefined;
  let router: GoogleRouter | undefined;
  const nc = await connect({ servers: natsUrl, name: `bench-sync-${mode}` });
  const db = new pg.Client({ connectionString: databaseUrl });
  let failed = false;
  try {
    for (let p = 0; p < spec.projects; p++) {
      const client = {
        id: `sync-bench-p${p + 1}-${randomBytes(3).toString("hex")}.apps.googleusercontent.com`,
        secret: randomBytes(12).toString("hex"),
      };
      clients.push(client);
      emulators.push(
        await startGoogleEmulator({
          port: 0,
          seed: { accounts: 1, locationsPerAccount: spec.locationsPerProject, reviewsPerLocation: [0, 0], seed: SEED + p },
          clients: [client],
          autoApprove: true,
          quotaPerMinute: LOADING_QPM,
          now: () => Date.now() + clock.shiftMs,
        }),
      );
    }
    const locations = placeLocations(emulators, workload.rates);
    const history = seedGoogle(emulators, locations, workload, clock);

    router = await startGoogleRouter(new Map(clients.map((c, i) => [c.id, emulators[i]!])));
    stack = await startStack({
      databaseUrl,
      natsUrl,
      namespace,
      googleUrl: router.url,
      logDir,
      env: {
        SYNC_ENABLED: "false",
        GOOGLE_QPM: String(LOADING_QPM),
        FETCH_CONCURRENCY: String(spec.fetchConcurrency),
        FETCH_POLL_MS: "100",
        LOG_LEVEL: "warn",
      },
    });
    const clientIds = await connectProjects(stack, clients, "sync bench");
    // the first full fetch of every client, on demand and at a large quota: what a deployment
    // has done long before the steady state measured here
    await Promise.all(clientIds.map((clientId) => fullFetch(stack!, clientId)));
    const fetched = performance.now();

    // the scheduled run: the fetcher again, with the scheduler on and the run's quota
    for (const e of emulators) {
      e.controls.setQuota({ perMinute: qpm });
      e.controls.resetQuotaUsage();
      e.controls.resetStats();
    }
    await stack.stopFetcher(0);
    await stack.startFetcher(0, {
      SYNC_ENABLED: "true",
      SYNC_ADAPTIVE: String(mode === "adaptive"),
      SYNC_INCREMENTAL_EVERY_SECONDS: String(spec.interval),
      SYNC_MIN_INCREMENTAL_SECONDS: String(Math.max(1, Math.round(spec.interval / 8))),
      SYNC_MAX_INCREMENTAL_SECONDS: String(spec.interval * 8),
      // no reconciliation during the run
      SYNC_FULL_EVERY_SECONDS: String(30 * 86_400),
      SYNC_TICK_MS: String(TICK_MS),
      GOOGLE_QPM: String(qpm),
    });
    await db.connect();
    await waitUntil(
      async () => {
        const { rows } = await db.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM locations WHERE interval_seconds IS NOT NULL AND next_due_at IS NOT NULL",
        );
        return rows[0]!.n >= locations.length;
      },
      60_000,
      "every location scheduled",
    );
    log(
      `${mode}: services up, ${count(history)} changes of history fetched in ${fmt((fetched - started) / 1000)} s, schedule on at ${since()}`,
    );

    // the edits, and what REVIEWS says about them
    const edits: Edit[] = [];
    const pending = new Map<string, number[]>();
    const byComment = new Map<string, number>();
    let phase: Phase = "settle";
    let otherEvents = 0;
    const tail = await tailReviews({
      connection: nc,
      names,
      onEvent: (event) => {
        const seenAt = Date.now();
        const index = byComment.get(event.review?.comment ?? "");
        if (index === undefined || event.type !== ReviewEventType.UPDATED) {
          otherEvents++;
          return;
        }
        // this edit, and any earlier one of the same review it supersedes
        const review = edits[index]!.review;
        const waiting = pending.get(review) ?? [];
        for (const i of waiting) if (i <= index) edits[i]!.seenAt ??= seenAt;
        pending.set(
          review,
          waiting.filter((i) => i > index),
        );
      },
    });
    const samples: Sample[] = [];
    const sampler = startSampler(() =>
      samples.push({ at: Date.now(), requests: emulators.map((e, p) => apiRequests(e.controls.stats().byProject[clients[p]!.id])) }),
    );
    let reused = 0;
    const editor = startEditor(mulberry32(SEED ^ 0x5eed), workload.rates, (location) => {
      const l = locations[location]!;
      if (l.next >= l.reviews.length) {
        l.next = 0;
        reused++;
      }
      const review = l.reviews[l.next++]!;
      const comment = `sync bench edit ${edits.length}`;
      const at = Date.now();
      emulators[l.project]!.controls.editReview({ name: review, comment });
      byComment.set(comment, edits.length);
      pending.set(review, [...(pending.get(review) ?? []), edits.length]);
      edits.push({ review, location, phase, at });
    });

    await sleep(spec.interval * 1000);
    phase = "window";
    const from = Date.now();
    await sleep(spec.window * 1000);
    const to = Date.now();
    phase = "after";
    editor.stop();
    const intervals = await intervalSpread(db);
    const asks = await scheduleAsks(db, qpm);
    // the schedule runs on until every timed edit has been seen (or far longer than it should take)
    await waitUntil(async () => edits.every((e) => e.phase !== "window" || e.seenAt !== undefined), spec.drain * 1000, "").catch(
      () => undefined,
    );
    const passes = await passSummary(db, { from, to }, locations);
    const timed = edits.filter((e) => e.phase === "window");
    log(`${mode}: ${summary(timed)}; intervals ${intervals}, asking ${asks.toFixed(2)} of GOOGLE_QPM; ${passes}`);

    let saturation: RunResult["saturation"];
    if (saturate) {
      // work due beyond the budget: an on-demand full fetch of every client on top of the schedule
      const jobs = await Promise.all(
        clientIds.map((clientId) => stack!.fetcher.createFetchJob({ target: { case: "clientId", value: clientId }, mode: FetchMode.FULL })),
      );
      await sleep(2_000);
      const satFrom = Date.now();
      await sleep(spec.saturation * 1000);
      saturation = { from: satFrom, to: Date.now() };
      const still = await Promise.all(jobs.map((j) => stack!.fetcher.getFetchJob({ jobId: j.jobId }).then((r) => r.job?.status)));
      log(
        `${mode}: ${jobs.length} on-demand full fetches over the schedule, ${still.filter((s) => s === JobStatus.RUNNING || s === JobStatus.QUEUED).length} still running at the end`,
      );
    }
    await sampler.stop();
    await tail.stop();

    const stats = emulators.map((e, p) => e.controls.stats());
    const perWindow = stats.map((s, p) => s.maxPerWindow[clients[p]!.id] ?? {});
    return {
      mode,
      edits: timed,
      window: { from, to },
      samples,
      saturation,
      peak: Math.max(0, ...perWindow.flatMap((perApi) => Object.values(perApi))),
      over: perWindow.reduce((n, perApi) => n + Object.values(perApi).filter((v) => v > qpm).length, 0),
      rejected: stats.reduce((n, s) => n + Object.values(s.quotaRejections).reduce((a, b) => a + b, 0), 0),
      passes,
      intervals,
      asks,
      otherEvents,
      reused,
      unrouted: router.unrouted,
      history,
    };
  } catch (err) {
    failed = true;
    throw err;
  } finally {
    await stack?.stop().catch(() => undefined);
    await db.end().catch(() => undefined);
    const jsm = await jetstreamManager(nc).catch(() => undefined);
    if (jsm) await deleteStreams(jsm, names).catch(() => undefined);
    await nc.close().catch(() => undefined);
    await router?.close().catch(() => undefined);
    for (const e of emulators) await e.close().catch(() => undefined);
    await dropDatabase(databaseUrl).catch(() => undefined);
    if (failed) log(`${mode}: services' logs kept in ${logDir}`);
    else rmSync(logDir, { recursive: true, force: true });
  }
}

async function fullFetch(stack: Stack, clientId: string): Promise<void> {
  const { jobId } = await stack.fetcher.createFetchJob({ target: { case: "clientId", value: clientId }, mode: FetchMode.FULL });
  const { job, ended } = await waitForJob(jobId, { timeoutMs: 300_000, client: () => stack.fetcher, intervalMs: 100 });
  if (!ended || job?.status !== JobStatus.SUCCEEDED)
    throw new Error(`the first full fetch of client ${clientId} ended ${job ? statusName(job.status) : "unknown"}`);
}

/** Every location's rate (changes/s): stratified quantiles of the distribution, shuffled over locations. */
function drawRates(spec: Sizes, kind: "power" | "loguniform"): number[] {
  const n = spec.projects * spec.locationsPerProject;
  // in units of the quietest rate; the power law's inverse CDF
  const quantile = (u: number) => (kind === "power" ? (1 - u * (1 - 1 / Math.sqrt(SPAN))) ** -2 : SPAN ** u);
  const units = Array.from({ length: n }, (_, i) => quantile(n === 1 ? 1 : i / (n - 1)));
  const rng = mulberry32(SEED);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [units[i], units[j]] = [units[j]!, units[i]!];
  }
  // the busiest location changes `busiestPerInterval` times per mean interval
  const quietest = spec.busiestPerInterval / spec.interval / SPAN;
  return units.map((x) => x * quietest);
}

function placeLocations(emulators: GoogleEmulator[], rates: number[]): Location[] {
  const locations: Location[] = [];
  emulators.forEach((e, project) => {
    for (const account of e.controls.data().accounts) {
      // `parent` is the location's full name, accounts/{a}/locations/{l}
      for (const l of account.locations) locations.push({ name: l.parent, project, rate: rates[locations.length]!, reviews: [], next: 0 });
    }
  });
  if (locations.length !== rates.length) throw new Error(`Google has ${locations.length} locations, the workload ${rates.length}`);
  return locations;
}

/**
 * Google's reviews before the run: per location, reviews ten days old for the run to edit (more
 * than it will), then a week of history at the location's rate (a Poisson count of reviews dated
 * over the last 7 days). Returns the changes of history.
 */
function seedGoogle(emulators: GoogleEmulator[], locations: Location[], workload: Workload, clock: { shiftMs: number }): number {
  const { spec } = workload;
  const rng = mulberry32(SEED ^ 0x4157);
  const editSeconds = spec.interval + spec.window;
  const quietest = Math.min(...workload.rates);
  const now = Date.now();
  let historyTotal = 0;
  emulators.forEach((emulator, project) => {
    const mine = locations.filter((l) => l.project === project);
    clock.shiftMs = -10 * DAY_MS;
    for (const l of mine) {
      const expected = l.rate * editSeconds;
      const n = Math.ceil(expected * 1.3 + 4 * Math.sqrt(expected) + 3);
      for (let i = 0; i < n; i++)
        l.reviews.push(emulator.controls.addReview({ location: l.name, comment: "ten days old", starRating: "FOUR" }).name);
    }
    // the emulator stamps reviews in order, so the week's history goes in oldest first
    const history: { at: number; location: string }[] = [];
    for (const l of mine) {
      const k = poisson(rng, (l.rate / quietest) * spec.quietestHistory);
      for (let i = 0; i < k; i++) history.push({ at: now - (0.2 + rng() * 6.6) * DAY_MS, location: l.name });
    }
    history.sort((a, b) => a.at - b.at);
    for (const h of history) {
      clock.shiftMs = h.at - Date.now();
      emulator.controls.addReview({ location: h.location, comment: "this week", starRating: "FIVE" });
    }
    historyTotal += history.length;
  });
  clock.shiftMs = 0;
  return historyTotal;
}

function poisson(rng: Rng, mean: number): number {
  if (mean > 50) {
    // normal approximation (Box-Muller)
    const z = Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
    return Math.max(0, Math.round(mean + z * Math.sqrt(mean)));
  }
  const limit = Math.exp(-mean);
  let k = 0;
  let p = rng();
  while (p > limit) {
    k++;
    p *= rng();
  }
  return k;
}

/** The square-root rule's mean delay over the uniform interval's, for these rates (no latency, no bounds): (Σ√λ)² / (N Σλ). */
function idealRatio(rates: number[]): number {
  const roots = rates.reduce((s, r) => s + Math.sqrt(r), 0);
  return (roots * roots) / (rates.length * rates.reduce((s, r) => s + r, 0));
}

/** A Poisson stream of edits over all locations (each at its own rate), from a seeded generator. */
function startEditor(rng: Rng, rates: number[], edit: (location: number) => void): { stop(): void } {
  const total = rates.reduce((a, b) => a + b, 0);
  const cumulative: number[] = [];
  rates.reduce((sum, r, i) => (cumulative[i] = sum + r), 0);
  const gap = () => (-Math.log(1 - rng()) / total) * 1000;
  let stopped = false;
  let next = Date.now() + gap();
  let timer: NodeJS.Timeout | undefined;
  const step = () => {
    if (stopped) return;
    while (next <= Date.now()) {
      const x = rng() * total;
      let lo = 0;
      let hi = cumulative.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cumulative[mid]! > x) hi = mid;
        else lo = mid + 1;
      }
      edit(lo);
      next += gap();
    }
    timer = setTimeout(step, Math.max(0, next - Date.now()));
  };
  step();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

function startSampler(sample: () => void): { stop(): Promise<void> } {
  sample();
  const timer = setInterval(sample, 1_000);
  return {
    async stop() {
      clearInterval(timer);
      sample();
    },
  };
}

/** API requests per project per minute over a span, as fractions of GOOGLE_QPM (`fraction`: the lowest project's). */
function quotaUse(
  samples: Sample[],
  span: { from: number; to: number },
  qpm: number,
): { requests: number; fraction: number; perProject: number[] } {
  const inside = samples.filter((s) => s.at >= span.from - 500 && s.at <= span.to + 500);
  const first = inside[0];
  const last = inside[inside.length - 1];
  if (!first || !last || last.at <= first.at) return { requests: 0, fraction: Number.NaN, perProject: [] };
  const minutes = (last.at - first.at) / 60_000;
  const made = last.requests.map((n, p) => n - first.requests[p]!);
  const perProject = made.map((n) => n / minutes / qpm);
  return { requests: made.reduce((a, b) => a + b, 0), fraction: Math.min(...perProject), perProject };
}

/** Google API requests in one project's counts (token endpoints left out). */
function apiRequests(perProject: Record<string, number> | undefined): number {
  return Object.entries(perProject ?? {})
    .filter(([endpoint]) => !["token", "tokeninfo", "authorize", "revoke"].includes(endpoint))
    .reduce((n, [, c]) => n + c, 0);
}

function delays(edits: Edit[]): { n: number; missed: number; mean: number; p95: number } {
  const seen = edits
    .filter((e) => e.seenAt !== undefined)
    .map((e) => (e.seenAt! - e.at) / 1000)
    .sort((x, y) => x - y);
  const mean = seen.length ? seen.reduce((s, d) => s + d, 0) / seen.length : Number.NaN;
  const p95 = seen.length ? seen[Math.min(seen.length - 1, Math.ceil(seen.length * 0.95) - 1)]! : Number.NaN;
  return { n: edits.length, missed: edits.length - seen.length, mean, p95 };
}

function summary(edits: Edit[]): string {
  const d = delays(edits);
  return `${d.n} edits timed, mean ${fmt(d.mean)} s, p95 ${fmt(d.p95)} s, ${d.missed} never seen`;
}

/**
 * What the scheduled passes of a window did: how long one waited from its job's creation to its
 * start and then ran, and the mean interval between passes over a location weighted by the
 * location's rate (half of it is what a change waits for the next pass, on average).
 */
async function passSummary(db: pg.Client, window: { from: number; to: number }, locations: Location[]): Promise<string> {
  const { rows } = await db.query<{ target_location: string; queued: number | null; ran: number | null }>(
    `SELECT target_location, extract(epoch FROM started_at - created_at)::float8 AS queued, extract(epoch FROM ended_at - started_at)::float8 AS ran
     FROM fetch_jobs WHERE trigger = 'schedule' AND created_at BETWEEN to_timestamp($1 / 1000.0) AND to_timestamp($2 / 1000.0)`,
    [window.from, window.to],
  );
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const queued = mean(rows.filter((r) => r.queued !== null).map((r) => r.queued!));
  const ran = mean(rows.filter((r) => r.ran !== null).map((r) => r.ran!));
  const passes = new Map<string, number>();
  for (const r of rows) passes.set(r.target_location, (passes.get(r.target_location) ?? 0) + 1);
  const seconds = (window.to - window.from) / 1000;
  const total = locations.reduce((sum, l) => sum + l.rate, 0);
  const weighted = locations.reduce((sum, l) => sum + (l.rate / total) * (seconds / Math.max(0.5, passes.get(l.name) ?? 0)), 0);
  return `${rows.length} passes, ${fmt(queued)} s from job to start, ${fmt(ran)} s running; rate-weighted interval between passes ${fmt(weighted)} s`;
}

/** What the scheduled intervals ask of the budget: Σ 1/interval (passes per minute, a request each) over GOOGLE_QPM, the lowest project's. */
async function scheduleAsks(db: pg.Client, qpm: number): Promise<number> {
  const { rows } = await db.query<{ per_minute: number }>(
    "SELECT sum(60.0 / interval_seconds)::float8 AS per_minute FROM locations WHERE interval_seconds IS NOT NULL GROUP BY client_id",
  );
  return Math.min(...rows.map((r) => r.per_minute)) / qpm;
}

/** The spread of the scheduled intervals: "15 s" when uniform, "2–120 s (median 11 s)" when not. */
async function intervalSpread(db: pg.Client): Promise<string> {
  const { rows } = await db.query<{ lo: number; mid: number; hi: number }>(
    `SELECT min(interval_seconds)::int AS lo, percentile_disc(0.5) WITHIN GROUP (ORDER BY interval_seconds)::int AS mid, max(interval_seconds)::int AS hi
     FROM locations WHERE interval_seconds IS NOT NULL`,
  );
  const { lo, mid, hi } = rows[0]!;
  return lo === hi ? `${lo} s` : `${lo}–${hi} s (median ${mid} s)`;
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what || "condition"} not reached within ${Math.round(timeoutMs / 1000)} s`);
    await sleep(200);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function fmt(n: number): string {
  if (Number.isNaN(n)) return "n/a";
  return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
}
