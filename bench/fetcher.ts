// ReviewFetcher benchmarks (figures only, nothing asserted):
//  1. end-to-end reviews/s of one large job with no quota and no latency (one fetcher instance,
//     then two), next to two ceilings measured right after on the same servers
//     (harness/ceilings.ts): raw JetStream, one process publishing the same number of messages of
//     the same size with a msgID and consuming + acking them; and store and publish, the same with
//     each page of 50 first written to the product's reviews, review_versions and review_publications tables;
//  2. a quota-bound job's time against the quota's minimum (its Google requests / GOOGLE_QPM),
//     and whether any 60 s window saw more than the quota;
//  3. the fetcher's RSS after 5 back-to-back large (full) jobs, against its RSS after the first;
//  4. what the review history costs: the large job's first fetch (every review created: a review
//     row, a version row in review_versions and its review_publications row, a publish and its published mark) against a full
//     re-fetch with nothing changed (one HOT update per review, no version, no publish), in wall
//     time and CPU (the fetcher's, and Postgres' for this database) per review, and
//     the history's size on disk per review (review_versions with review_publications);
//  5. what deletion confirmation costs: N reviews deleted at Google, then a full job: the
//     reviews.get calls it made and its extra wall time and CPU per confirmed deletion, once with
//     no quota (against the unchanged re-fetches of (3)) and once quota-bound (against the same
//     job before the deletions), where each reviews.get spends a request of the quota;
//  6. the fetcher's CPU per review split into Google, diffing, Postgres, NATS and the rest (a
//     profiled first fetch and unchanged re-fetch).
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import pg from "pg";
import type { SeedSpec } from "../emulator/index.js";
import { FetchMode, JobStatus, type JobCounters } from "../gen/reviewflow/fetcher/v1/fetcher_pb.js";
import type { BenchFn, BenchRow, BenchSize } from "./types.js";
import { BENCH_CLIENT, createEnvironment, type Environment } from "./harness/environment.js";
import { statusName, waitForJob } from "./harness/jobs.js";
import { startNatsServer } from "./harness/nats-server.js";
import { ceilingFigure, jetStreamCeiling, measureCeiling, type Ceiling } from "./harness/ceilings.js";
import { count, seconds, us } from "./harness/table.js";
import { CPU_PARTS, cpuSplit, mainProfile, type CpuPart } from "./harness/cpu-split.js";
import { cpuMs } from "./harness/process-cpu.js";
import { loadConfig } from "../lib/config/index.js";

/** The services' log level: info (task retries, the outbox sweep) when the logs are kept to be read, else warn. */
const BENCH_LOG_LEVEL = process.env.BENCH_KEEP_LOGS === "1" ? "info" : "warn";

interface Sizes {
  /** The large job of (1) and (3). */
  seed: SeedSpec;
  concurrency: number;
  /** (2): Google's and reviewflow's QPM, a seed needing a bit more than `qpm` requests, and (5)'s deletions there. */
  quota: { qpm: number; seed: SeedSpec; deletions: number };
  rssJobs: number;
  /** (5): reviews deleted at Google before the deletion-confirmation job with no quota. */
  deletions: number;
  /** (6): the profiled job whose CPU is split by part. */
  splitSeed: SeedSpec;
}

const SIZES: Record<BenchSize, Sizes> = {
  full: {
    seed: { accounts: 3, locationsPerAccount: 200, reviewsPerLocation: [0, 500] },
    concurrency: 16,
    // ~300 requests at 300 QPM: the minimum is about a minute
    quota: { qpm: 300, seed: { accounts: 2, locationsPerAccount: 100, reviewsPerLocation: [0, 100] }, deletions: 60 },
    rssJobs: 5,
    deletions: 10_000,
    splitSeed: { accounts: 1, locationsPerAccount: 100, reviewsPerLocation: [0, 500] },
  },
  reduced: {
    seed: { accounts: 1, locationsPerAccount: 12, reviewsPerLocation: [0, 150] },
    concurrency: 8,
    quota: { qpm: 1_200, seed: { accounts: 1, locationsPerAccount: 30, reviewsPerLocation: [0, 60] }, deletions: 10 },
    rssJobs: 5,
    deletions: 20,
    splitSeed: { accounts: 1, locationsPerAccount: 12, reviewsPerLocation: [0, 150] },
  },
};

export const runFetcherBench: BenchFn = async ({ size, log = () => undefined }) => {
  const spec = SIZES[size];
  const concurrency = Number(process.env.BENCH_FETCH_CONCURRENCY ?? spec.concurrency);
  // the end-to-end jobs run at the fetcher's default (FETCH_CONCURRENCY=auto: at Google's
  // latency here, no quota, FETCH_CONCURRENCY_MAX) unless BENCH_FETCH_CONCURRENCY fixes it; until
  // stop 26 they ran at a fixed 16 (the other parts still do)
  const endToEndConcurrency = process.env.BENCH_FETCH_CONCURRENCY ?? "auto";
  // BENCH_FETCHER_PARTS=one,split (say) runs only those parts: one fetcher end to end (with its
  // re-fetches and the deletion job), two fetchers, the quota-bound job, the CPU split by part;
  // BENCH_FETCHER_REFETCHES sets how many unchanged re-fetches follow the first fetch (5)
  const parts = new Set((process.env.BENCH_FETCHER_PARTS ?? "one,two,quota,split").split(",").map((p) => p.trim()));
  const nats = await startNatsServer();
  const rows: BenchRow[] = [];
  try {
    // one instance (and its memory over back-to-back jobs), then two: the fetcher scales out,
    // and one Node process is bound to one of the box's cores
    if (parts.has("one"))
      rows.push(
        ...(await endToEnd(
          nats.url,
          { ...spec, rssJobs: Number(process.env.BENCH_FETCHER_REFETCHES ?? spec.rssJobs) },
          endToEndConcurrency,
          1,
          log,
        )),
      );
    if (parts.has("two")) rows.push(...(await endToEnd(nats.url, spec, endToEndConcurrency, 2, log)));
    if (parts.has("quota")) rows.push(...(await quotaBound(nats.url, spec, concurrency, log)));
    if (parts.has("split")) rows.push(...(await cpuByPart(nats.url, spec, concurrency, log)));
  } finally {
    await nats.close();
  }
  return rows;
};

async function endToEnd(
  natsUrl: string,
  spec: Sizes,
  concurrency: string,
  fetchers: number,
  log: (line: string) => void,
): Promise<BenchRow[]> {
  const env = await createEnvironment({
    label: `bench-fetcher-${fetchers}`,
    natsUrl,
    emulator: { seed: spec.seed, quotaPerMinute: 1_000_000 },
    stack: { fetchers, env: { GOOGLE_QPM: "1000000", FETCH_CONCURRENCY: concurrency, FETCH_POLL_MS: "100", LOG_LEVEL: BENCH_LOG_LEVEL } },
  });
  const db = new pg.Client({ connectionString: env.databaseUrl });
  try {
    const total = env.emulator.controls.data().totalReviews;
    const instances = `${fetchers} fetcher${fetchers > 1 ? "s" : ""}`;
    log(`end to end: one job, ${count(total)} reviews, no quota, no latency, ${instances}, FETCH_CONCURRENCY=${concurrency}`);
    await db.connect();
    const fetcherPid = env.stack.fetcherServices[0]!.pid;
    const cpu = fetchers === 1 ? () => sampleCpu(db, fetcherPid, isLocal(env.databaseUrl)) : undefined;
    const first = await timedJob(env, FetchMode.FULL, cpu);
    const sizes = await tableSizes(db);
    const stored = (await jetstreamManager(env.nats).then((jsm) => jsm.streams.info(env.names.reviews.stream))).state;
    const published = stored.messages;
    const pipelinePerSecond = published / (first.ms / 1000);
    log(
      `end to end: ${statusName(first.status)} in ${seconds(first.ms)}, ${count(published)} events (${count(pipelinePerSecond)} reviews/s)`,
    );

    // the ceilings, measured right after on the same servers (harness/ceilings.ts): raw JetStream
    // is NATS alone; store and publish adds the rows every created review needs, which no
    // pipeline keeping a version of every change can do without
    const messageBytes = Math.max(64, Math.round(stored.bytes / Math.max(1, stored.messages)));
    const reviewBytes = await meanReviewBytes(db);
    // the fetchers' pool size (the services get FETCH_DATABASE_CONNECTIONS from this environment)
    const connections = loadConfig(process.env).fetcher.databaseConnections;
    const ceilings = {
      raw: await measureCeiling("raw JetStream", log, () => jetStreamCeiling(natsUrl, env.namespace, published, messageBytes), published),
      store: await measureCeiling(
        "store and publish",
        log,
        () =>
          jetStreamCeiling(natsUrl, env.namespace, published, messageBytes, {
            reviewBytes,
            connections,
            // not the limit: 16, 32 and 64 pages in flight gave medians of 20.0k, 18.4k and 20.4k msg/s
            pagesInFlight: spec.concurrency,
          }),
        published,
      ),
    };
    const job = `${count(pipelinePerSecond)} reviews/s (${seconds(first.ms)}, ${statusName(first.status)})`;
    const complete = first.status === JobStatus.SUCCEEDED && published === total;
    const against = ({ median, low, high }: Ceiling, what: string) => {
      const ratio = pipelinePerSecond / median;
      return {
        ratio: `${ratio.toFixed(2)} × ${what} (${(pipelinePerSecond / high).toFixed(2)}–${(pipelinePerSecond / low).toFixed(2)} over its range)`,
        target: "≥ 0.5",
        met: complete && ratio >= 0.5,
      };
    };
    const rows: BenchRow[] = [
      {
        name: `raw JetStream, ${count(published)} msgs of ${messageBytes} B (msgID, consume + ack), median of 3`,
        figure: ceilingFigure(ceilings.raw),
      },
      {
        name: `end-to-end job, ${count(total)} reviews, no quota or latency, ${instances}, FETCH_CONCURRENCY=${concurrency}`,
        figure: job,
        ...against(ceilings.raw, "raw JetStream"),
      },
      {
        name:
          `store and publish: the same messages, each page of 50 first written as ${reviewBytes} B reviews + review_versions + review_publications rows ` +
          `(one statement, ${connections} connections, ${spec.concurrency} pages in flight), median of 3`,
        figure: ceilingFigure(ceilings.store),
      },
      {
        name: `the same end-to-end job against store and publish`,
        figure: job,
        ...against(ceilings.store, "store and publish"),
      },
    ];
    if (fetchers !== 1) return rows;

    // RSS of the warm process (it has just run the large job above) before and after five full
    // re-reads of every review. V8 hands memory back lazily, so single samples move by ±15 %
    // between jobs; the range is printed with the figure.
    const rss: number[] = [rssBytes(fetcherPid)];
    // these re-fetches change nothing: they are also (4)'s and (5)'s baseline
    const refetches: TimedJob[] = [];
    for (let i = 1; i <= spec.rssJobs; i++) {
      const job = await timedJob(env, FetchMode.FULL, cpu);
      refetches.push(job);
      rss.push(rssBytes(fetcherPid));
      log(
        `memory: full job ${i}/${spec.rssJobs} ${statusName(job.status)} in ${seconds(job.ms)} (${counterSummary(job)}), fetcher RSS ${mb(rss[i]!)}`,
      );
    }
    const growth = (rss[spec.rssJobs]! - rss[0]!) / rss[0]!;
    rows.push({
      name: `fetcher RSS after ${spec.rssJobs} back-to-back full jobs`,
      figure: `${mb(rss[spec.rssJobs]!)} (before them: ${mb(rss[0]!)}; between jobs ${mb(Math.min(...rss))}–${mb(Math.max(...rss))})`,
      ratio: `${growth >= 0 ? "+" : ""}${(growth * 100).toFixed(1)} %`,
      target: "< 10 % growth",
      met: growth < 0.1,
    });

    rows.push(...historyCost(total, sizes, first, refetches, log));
    rows.push(await deletionCost(env, db, cpu, spec.deletions, refetches, log));
    return rows;
  } finally {
    await db.end().catch(() => undefined);
    await env.close();
  }
}

interface TableSizes {
  versions: number;
  versionBytes: number;
  reviewBytes: number;
}

/** The history's size on disk (review_versions and the outbox, review_publications: tables, indexes, TOAST), reviews', and the versions kept. */
async function tableSizes(db: pg.Client): Promise<TableSizes> {
  const { rows } = await db.query<{ versions: string; version_bytes: string; review_bytes: string }>(
    `SELECT (SELECT count(*) FROM review_versions) AS versions,
       pg_total_relation_size('review_versions') + pg_total_relation_size('review_publications') AS version_bytes, pg_total_relation_size('reviews') AS review_bytes`,
  );
  return { versions: Number(rows[0]!.versions), versionBytes: Number(rows[0]!.version_bytes), reviewBytes: Number(rows[0]!.review_bytes) };
}

/**
 * (4) The cost per review of the version history: the first full fetch (all created; also the
 * fresh process's first job) against the median of the unchanged re-fetches of the same reviews,
 * plus the history's size on disk per review right after the first fetch (one version each).
 */
function historyCost(
  total: number,
  { versions, versionBytes, reviewBytes }: TableSizes,
  first: TimedJob,
  refetches: TimedJob[],
  log: (line: string) => void,
): BenchRow[] {
  const refetch = median(refetches);
  const perReview = (ms: number) => us((ms * 1000) / Math.max(1, total));
  const costs = (job: TimedJob) =>
    `${perReview(job.ms)} wall, CPU ${perReview(job.cpu?.fetcherMs ?? 0)} fetcher + ${perReview(job.cpu?.postgresMs ?? 0)} Postgres per review`;
  log(
    `history: first fetch ${costs(first)} (${counterSummary(first)}); unchanged re-fetch ${costs(refetch)} (${counterSummary(refetch)}); ` +
      `review_versions + review_publications ${mb(versionBytes)} for ${count(versions)} versions, reviews ${mb(reviewBytes)}`,
  );
  const ratio = (a: number | undefined, b: number | undefined) => ((a ?? 0) / Math.max(1e-9, b ?? 0)).toFixed(2);
  return [
    {
      name: `first full fetch, ${count(total)} reviews all created (review + version row, publish, published mark)`,
      figure: costs(first),
      ratio: `× a re-fetch: ${ratio(first.ms, refetch.ms)} wall, ${ratio(first.cpu?.fetcherMs, refetch.cpu?.fetcherMs)} fetcher CPU, ${ratio(first.cpu?.postgresMs, refetch.cpu?.postgresMs)} Postgres CPU`,
    },
    {
      name: `full re-fetch of the same ${count(total)} reviews, nothing changed (no version, no publish), median of ${refetches.length}`,
      figure: costs(refetch),
    },
    {
      name: `review_versions + review_publications on disk (pg_total_relation_size), ${count(versions)} versions`,
      figure: `${count(versionBytes / Math.max(1, total))} B per review (${mb(versionBytes)})`,
      ratio: `${(versionBytes / Math.max(1, reviewBytes)).toFixed(2)} × the reviews table (${count(reviewBytes / Math.max(1, total))} B per review)`,
    },
  ];
}

/** Deletes `n` of the stored live reviews at Google (a stable pseudo-random pick); returns how many. */
async function deleteAtGoogle(env: Environment, db: pg.Client, n: number): Promise<number> {
  const { rows } = await db.query<{ name: string }>("SELECT name FROM reviews WHERE deleted_at IS NULL ORDER BY md5(name) LIMIT $1", [n]);
  for (const { name } of rows) env.emulator.controls.deleteReview({ name });
  return rows.length;
}

/**
 * (5) The cost of deletion confirmation with no quota: `n` reviews deleted at Google, then one
 * full job; its reviews.get calls (the emulator's count) and its wall time beyond the unchanged
 * re-fetches' median, per confirmed deletion (their spread is printed beside it: that is the noise).
 */
async function deletionCost(
  env: Environment,
  db: pg.Client,
  cpu: (() => Promise<CpuSample>) | undefined,
  n: number,
  refetches: TimedJob[],
  log: (line: string) => void,
): Promise<BenchRow> {
  const removed = await deleteAtGoogle(env, db, n);
  env.emulator.controls.resetStats();
  const job = await timedJob(env, FetchMode.FULL, cpu);
  const gets = env.emulator.controls.stats().requests["reviews.get"] ?? 0;
  const deleted = Number(job.counters?.deleted ?? 0n);
  const walls = refetches.map((r) => r.ms).sort((a, b) => a - b);
  const base = median(refetches);
  const baseline = base.ms;
  const spread = `${seconds(walls[0]!)}–${seconds(walls[walls.length - 1]!)}`;
  const perDeletion = (a: number | undefined, b: number | undefined) => signed(((a ?? 0) - (b ?? 0)) / Math.max(1, deleted));
  log(
    `deletions: ${removed} deleted at Google; full job ${statusName(job.status)} in ${seconds(job.ms)} (${counterSummary(job)}), ${gets} reviews.get, ` +
      `CPU ${Math.round(job.cpu?.fetcherMs ?? 0)} ms fetcher + ${Math.round(job.cpu?.postgresMs ?? 0)} ms Postgres; ` +
      `unchanged re-fetches ${spread} (median ${seconds(baseline)}, CPU ${Math.round(base.cpu?.fetcherMs ?? 0)} + ${Math.round(base.cpu?.postgresMs ?? 0)} ms)`,
  );
  return {
    name: `deletion confirmation, no quota: ${count(removed)} reviews deleted at Google, then a full job`,
    figure:
      `${count(gets)} reviews.get, ${count(deleted)} DELETED; per deletion ${perDeletion(job.ms, baseline)} ms wall, ` +
      `CPU fetcher ${perDeletion(job.cpu?.fetcherMs, base.cpu?.fetcherMs)} ms, Postgres ${perDeletion(job.cpu?.postgresMs, base.cpu?.postgresMs)} ms`,
    ratio: `job ${seconds(job.ms)} vs unchanged re-fetches ${spread} (median ${seconds(baseline)})`,
  };
}

function median(jobs: TimedJob[]): TimedJob {
  return [...jobs].sort((a, b) => a.ms - b.ms)[Math.floor(jobs.length / 2)]!;
}

function counterSummary(job: TimedJob): string {
  const c = job.counters;
  return c ? `created ${c.created}, updated ${c.updated}, unchanged ${c.unchanged}, deleted ${c.deleted}` : "no counters";
}

function signed(n: number): string {
  return Number.isNaN(n) ? "n/a" : `${n >= 0 ? "+" : ""}${n.toFixed(Math.abs(n) < 10 ? 2 : 1)}`;
}

async function quotaBound(natsUrl: string, spec: Sizes, concurrency: number, log: (line: string) => void): Promise<BenchRow[]> {
  const { qpm, seed, deletions } = spec.quota;
  const env = await createEnvironment({
    label: "bench-quota",
    natsUrl,
    emulator: { seed, quotaPerMinute: qpm },
    stack: {
      fetchers: 1,
      env: { GOOGLE_QPM: String(qpm), FETCH_CONCURRENCY: String(concurrency), FETCH_POLL_MS: "100", LOG_LEVEL: BENCH_LOG_LEVEL },
    },
  });
  try {
    env.emulator.controls.resetStats();
    log(`quota-bound: GOOGLE_QPM=${qpm} and Google's quota ${qpm}/min`);
    const job = await timedJob(env, FetchMode.FULL);
    const stats = env.emulator.controls.stats();
    const requests = apiRequests(stats.byProject[BENCH_CLIENT.id]);
    const minimumMs = (requests / qpm) * 60_000;
    const peak = Math.max(0, ...Object.values(stats.maxPerWindow[BENCH_CLIENT.id] ?? {}));
    const rejections = Object.values(stats.quotaRejections).reduce((n, c) => n + c, 0);
    const ratio = job.ms / minimumMs;
    log(
      `quota-bound: ${statusName(job.status)}, ${requests} requests in ${seconds(job.ms)} (minimum ${seconds(minimumMs)}), peak ${peak}/window, ${rejections} rejections`,
    );
    const rows: BenchRow[] = [
      {
        name: `quota-bound job, ${requests} requests at ${qpm} QPM`,
        figure: `${seconds(job.ms)} vs minimum ${seconds(minimumMs)}; peak ${peak} in any 60 s, ${rejections} × 429`,
        ratio: `${ratio.toFixed(3)} × minimum`,
        target: "≤ 1.05, 0 violations",
        met: job.status === JobStatus.SUCCEEDED && ratio <= 1.05 && rejections === 0 && peak <= qpm,
      },
    ];

    // (5) quota-bound: the same job again after deletions at Google; each deletion costs a
    // reviews.get, i.e. one request of the quota (60 / QPM seconds)
    const db = new pg.Client({ connectionString: env.databaseUrl });
    await db.connect();
    let removed: number;
    try {
      removed = await deleteAtGoogle(env, db, deletions);
    } finally {
      await db.end();
    }
    env.emulator.controls.resetStats();
    const again = await timedJob(env, FetchMode.FULL);
    const againStats = env.emulator.controls.stats();
    const againRequests = apiRequests(againStats.byProject[BENCH_CLIENT.id]);
    const gets = againStats.requests["reviews.get"] ?? 0;
    const deleted = Number(again.counters?.deleted ?? 0n);
    const extraMs = (again.ms - job.ms) / Math.max(1, deleted);
    const requestShareMs = 60_000 / qpm;
    log(
      `quota-bound deletions: ${removed} deleted at Google; full job ${statusName(again.status)} in ${seconds(again.ms)} (${counterSummary(again)}), ${againRequests} requests of which ${gets} reviews.get`,
    );
    rows.push({
      name: `deletion confirmation at ${qpm} QPM: ${count(removed)} reviews deleted at Google, then the same full job`,
      figure: `${count(gets)} reviews.get, ${count(deleted)} DELETED; ${signed(extraMs)} ms wall per deletion (${seconds(again.ms)} vs ${seconds(job.ms)}, ${againRequests} vs ${requests} requests)`,
      ratio: `${(extraMs / requestShareMs).toFixed(2)} × one request's share of the quota (${count(requestShareMs)} ms)`,
    });
    return rows;
  } finally {
    await env.close();
  }
}

/**
 * (6) The fetcher's CPU per review split into Google (HTTP and decoding), diffing, Postgres, NATS
 * (publishing) and the rest, for a first fetch (every review created) and an unchanged re-fetch:
 * the fetcher runs under node --cpu-prof (which itself costs some CPU, so the split's shares
 * matter more than its absolute figures) and each job's samples are charged by harness/cpu-split.
 */
async function cpuByPart(natsUrl: string, spec: Sizes, concurrency: number, log: (line: string) => void): Promise<BenchRow[]> {
  const profileDir = mkdtempSync(path.join(os.tmpdir(), "rf-bench-prof-"));
  const env = await createEnvironment({
    label: "bench-cpu-split",
    natsUrl,
    emulator: { seed: spec.splitSeed, quotaPerMinute: 1_000_000 },
    stack: {
      fetchers: 1,
      profileDir,
      env: { GOOGLE_QPM: "1000000", FETCH_CONCURRENCY: String(concurrency), FETCH_POLL_MS: "100", LOG_LEVEL: BENCH_LOG_LEVEL },
    },
  });
  const now = () => Number(process.hrtime.bigint() / 1000n);
  const windows: [number, number][] = [];
  const jobs: TimedJob[] = [];
  let total = 0;
  try {
    total = env.emulator.controls.data().totalReviews;
    log(`CPU by part: ${count(total)} reviews, fetcher under --cpu-prof: a first fetch, then an unchanged re-fetch`);
    for (let i = 0; i < 2; i++) {
      const start = now();
      jobs.push(await timedJob(env, FetchMode.FULL));
      windows.push([start, now()]);
    }
  } finally {
    await env.close();
  }
  try {
    const file = mainProfile(path.join(profileDir, "fetcher-1"));
    if (!file) return [{ name: "fetcher CPU per review by part", figure: "no profile written" }];
    const [first, again] = cpuSplit(file, windows);
    const describe = (split: Record<CpuPart, number>) => {
      const sum = CPU_PARTS.reduce((n, p) => n + split[p], 0);
      return (
        `${us((sum * 1000) / Math.max(1, total))} in all: ` +
        CPU_PARTS.map(
          (p) => `${p} ${us((split[p] * 1000) / Math.max(1, total))} (${((split[p] / Math.max(1e-9, sum)) * 100).toFixed(0)} %)`,
        ).join(", ")
      );
    };
    log(`CPU by part: first fetch ${statusName(jobs[0]!.status)} in ${seconds(jobs[0]!.ms)}: ${describe(first!)}`);
    log(`CPU by part: unchanged re-fetch ${statusName(jobs[1]!.status)} in ${seconds(jobs[1]!.ms)}: ${describe(again!)}`);
    return [
      { name: `fetcher CPU per review by part, first fetch of ${count(total)} reviews (profiled)`, figure: describe(first!) },
      { name: `fetcher CPU per review by part, unchanged re-fetch (profiled)`, figure: describe(again!) },
    ];
  } finally {
    // BENCH_KEEP_PROFILE=1 leaves the profiles for scripts/cpu-profile-summary.ts
    if (!process.env.BENCH_KEEP_PROFILE) rmSync(profileDir, { recursive: true, force: true });
    else log(`CPU by part: profiles kept in ${profileDir}`);
  }
}

/** Google API requests in one project's counts (token endpoints left out). */
function apiRequests(perProject: Record<string, number> | undefined): number {
  return Object.entries(perProject ?? {})
    .filter(([endpoint]) => !["token", "tokeninfo", "authorize", "revoke"].includes(endpoint))
    .reduce((n, [, c]) => n + c, 0);
}

interface TimedJob {
  ms: number;
  status: JobStatus;
  counters?: JobCounters;
  /** CPU spent during the job, when it was sampled. */
  cpu?: { fetcherMs: number; postgresMs: number };
}

async function timedJob(env: Environment, mode: FetchMode, cpu?: () => Promise<CpuSample>): Promise<TimedJob> {
  const before = await cpu?.();
  const started = performance.now();
  const created = await env.stack.fetcher.createFetchJob({ target: { case: "clientId", value: env.clientId }, mode });
  const waited = await waitForJob(created.jobId, { timeoutMs: 1_800_000, client: () => env.stack.fetcher, intervalMs: 25 });
  const ms = performance.now() - started;
  const after = await cpu?.();
  return {
    ms,
    status: waited.job?.status ?? JobStatus.UNSPECIFIED,
    counters: waited.job?.counters,
    cpu: before && after ? cpuSpent(before, after) : undefined,
  };
}

/**
 * CPU time so far (ms) of the fetcher process and of each Postgres backend serving the database
 * (those only when Postgres runs on this machine: their pids are read from /proc).
 */
interface CpuSample {
  fetcherMs: number;
  postgresMs?: Map<number, number>;
}

async function sampleCpu(db: pg.Client, fetcherPid: number, localPostgres: boolean): Promise<CpuSample> {
  if (!localPostgres) return { fetcherMs: cpuMs(fetcherPid) };
  const { rows } = await db.query<{ pid: number }>(
    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
  );
  return { fetcherMs: cpuMs(fetcherPid), postgresMs: new Map(rows.map((r) => [r.pid, cpuMs(r.pid)])) };
}

function isLocal(databaseUrl: string): boolean {
  return ["127.0.0.1", "localhost", "[::1]", ""].includes(new URL(databaseUrl).hostname);
}

/**
 * CPU spent between two samples (Postgres' NaN when it is not local). A backend that connected
 * in between counts whole (its set-up is a few ms); one that disconnected in between is missed
 * (pools keep busy connections open).
 */
function cpuSpent(before: CpuSample, after: CpuSample): { fetcherMs: number; postgresMs: number } {
  if (!before.postgresMs || !after.postgresMs) return { fetcherMs: after.fetcherMs - before.fetcherMs, postgresMs: Number.NaN };
  let postgresMs = 0;
  for (const [pid, ms] of after.postgresMs) postgresMs += ms - (before.postgresMs.get(pid) ?? 0);
  return { fetcherMs: after.fetcherMs - before.fetcherMs, postgresMs };
}

/** The stored reviews' mean size (review_pb), what the store-and-publish ceiling writes. */
async function meanReviewBytes(db: pg.Client): Promise<number> {
  const { rows } = await db.query<{ bytes: string | null }>("SELECT round(avg(octet_length(review_pb))) AS bytes FROM reviews");
  return Math.max(16, Number(rows[0]?.bytes ?? 0));
}

function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1] ?? 0);
  return kb * 1024;
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
