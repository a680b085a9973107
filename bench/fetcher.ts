// ReviewFetcher benchmarks (figures only, nothing asserted):
//  1. end-to-end reviews/s of one large job with no quota and no latency (one fetcher instance,
//     then two), next to the raw JetStream ceiling measured right after on the same server: one
//     process publishing the same number of messages of the same size with a msgID, and
//     consuming + acking them;
//  2. a quota-bound job's time against the quota's minimum (its Google requests / GOOGLE_QPM),
//     and whether any 60 s window saw more than the quota;
//  3. the fetcher's RSS after 5 back-to-back large (full) jobs, against its RSS after the first.
import { readFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { AckPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType } from "@nats-io/jetstream";
import { nanos } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import type { SeedSpec } from "../emulator/index.js";
import { FetchMode, JobStatus } from "../gen/reviewflow/fetcher/v1/fetcher_pb.js";
import type { BenchFn, BenchRow, BenchSize } from "./types.js";
import { BENCH_CLIENT, createEnvironment, type Environment } from "./harness/environment.js";
import { statusName, waitForJob } from "./harness/jobs.js";
import { startNatsServer } from "./harness/nats-server.js";
import { count, seconds } from "./harness/table.js";

interface Sizes {
  /** The large job of (1) and (3). */
  seed: SeedSpec;
  concurrency: number;
  /** (2): Google's and reviewflow's QPM, and a seed needing a bit more than `qpm` requests. */
  quota: { qpm: number; seed: SeedSpec };
  rssJobs: number;
}

const SIZES: Record<BenchSize, Sizes> = {
  full: {
    seed: { accounts: 3, locationsPerAccount: 200, reviewsPerLocation: [0, 500] },
    concurrency: 16,
    // ~300 requests at 300 QPM: the minimum is about a minute
    quota: { qpm: 300, seed: { accounts: 2, locationsPerAccount: 100, reviewsPerLocation: [0, 100] } },
    rssJobs: 5,
  },
  reduced: {
    seed: { accounts: 1, locationsPerAccount: 12, reviewsPerLocation: [0, 150] },
    concurrency: 8,
    quota: { qpm: 1_200, seed: { accounts: 1, locationsPerAccount: 30, reviewsPerLocation: [0, 60] } },
    rssJobs: 5,
  },
};

export const runFetcherBench: BenchFn = async ({ size, log = () => undefined }) => {
  const spec = SIZES[size];
  const concurrency = Number(process.env.BENCH_FETCH_CONCURRENCY ?? spec.concurrency);
  const nats = await startNatsServer();
  const rows: BenchRow[] = [];
  try {
    // one instance (and its memory over back-to-back jobs), then two: the fetcher scales out,
    // and one Node process is bound to one of the box's cores
    rows.push(...(await endToEnd(nats.url, spec, concurrency, 1, log)));
    rows.push(...(await endToEnd(nats.url, spec, concurrency, 2, log)));
    rows.push(await quotaBound(nats.url, spec, concurrency, log));
  } finally {
    await nats.close();
  }
  return rows;
};

async function endToEnd(natsUrl: string, spec: Sizes, concurrency: number, fetchers: number, log: (line: string) => void): Promise<BenchRow[]> {
  const env = await createEnvironment({
    label: `bench-fetcher-${fetchers}`,
    natsUrl,
    emulator: { seed: spec.seed, quotaPerMinute: 1_000_000 },
    stack: { fetchers, env: { GOOGLE_QPM: "1000000", FETCH_CONCURRENCY: String(concurrency), FETCH_POLL_MS: "100", LOG_LEVEL: "warn" } },
  });
  try {
    const total = env.emulator.controls.data().totalReviews;
    const instances = `${fetchers} fetcher${fetchers > 1 ? "s" : ""}`;
    log(`end to end: one job, ${count(total)} reviews, no quota, no latency, ${instances}, FETCH_CONCURRENCY=${concurrency}`);
    const first = await timedJob(env, FetchMode.FULL);
    const stored = (await jetstreamManager(env.nats).then((jsm) => jsm.streams.info(env.names.reviews.stream))).state;
    const published = stored.messages;
    const pipelinePerSecond = published / (first.ms / 1000);
    log(`end to end: ${statusName(first.status)} in ${seconds(first.ms)}, ${count(published)} events (${count(pipelinePerSecond)} reviews/s)`);

    // the ceiling, measured right after on the same server: the box's load drifts between runs
    const messageBytes = Math.max(64, Math.round(stored.bytes / Math.max(1, stored.messages)));
    log(`raw JetStream: ${count(published)} messages of ${messageBytes} bytes, published with msgID, consumed and acked`);
    const raw = await rawJetStream(natsUrl, env.namespace, published, messageBytes);
    const rawPerSecond = published / (raw / 1000);
    log(`raw JetStream: ${seconds(raw)} (${count(rawPerSecond)} msg/s)`);
    const ratio = pipelinePerSecond / rawPerSecond;
    const rows: BenchRow[] = [
      { name: `raw JetStream, ${count(published)} msgs of ${messageBytes} B (msgID, consume + ack)`, figure: `${count(rawPerSecond)} msg/s` },
      {
        name: `end-to-end job, ${count(total)} reviews, no quota or latency, ${instances}`,
        figure: `${count(pipelinePerSecond)} reviews/s (${seconds(first.ms)}, ${statusName(first.status)})`,
        ratio: `${ratio.toFixed(2)} × raw JetStream`,
        target: "≥ 0.5",
        met: first.status === JobStatus.SUCCEEDED && published === total && ratio >= 0.5,
      },
    ];
    if (fetchers !== 1) return rows;

    // RSS of the warm process (it has just run the large job above) before and after five full
    // re-reads of every review. V8 hands memory back lazily, so single samples move by ±15 %
    // between jobs; the range is printed with the figure.
    const pid = env.stack.fetcherServices[0]!.pid;
    const rss: number[] = [rssBytes(pid)];
    for (let i = 1; i <= spec.rssJobs; i++) {
      const job = await timedJob(env, FetchMode.FULL);
      rss.push(rssBytes(pid));
      log(`memory: full job ${i}/${spec.rssJobs} ${statusName(job.status)} in ${seconds(job.ms)}, fetcher RSS ${mb(rss[i]!)}`);
    }
    const growth = (rss[spec.rssJobs]! - rss[0]!) / rss[0]!;
    rows.push({
      name: `fetcher RSS after ${spec.rssJobs} back-to-back full jobs`,
      figure: `${mb(rss[spec.rssJobs]!)} (before them: ${mb(rss[0]!)}; between jobs ${mb(Math.min(...rss))}–${mb(Math.max(...rss))})`,
      ratio: `${growth >= 0 ? "+" : ""}${(growth * 100).toFixed(1)} %`,
      target: "< 10 % growth",
      met: growth < 0.1,
    });
    return rows;
  } finally {
    await env.close();
  }
}

async function quotaBound(natsUrl: string, spec: Sizes, concurrency: number, log: (line: string) => void): Promise<BenchRow> {
  const { qpm, seed } = spec.quota;
  const env = await createEnvironment({
    label: "bench-quota",
    natsUrl,
    emulator: { seed, quotaPerMinute: qpm },
    stack: { fetchers: 1, env: { GOOGLE_QPM: String(qpm), FETCH_CONCURRENCY: String(concurrency), FETCH_POLL_MS: "100", LOG_LEVEL: "warn" } },
  });
  try {
    env.emulator.controls.resetStats();
    log(`quota-bound: GOOGLE_QPM=${qpm} and Google's quota ${qpm}/min`);
    const job = await timedJob(env, FetchMode.FULL);
    const stats = env.emulator.controls.stats();
    const perProject = stats.byProject[BENCH_CLIENT.id] ?? {};
    const requests = Object.entries(perProject).filter(([endpoint]) => !["token", "tokeninfo", "authorize", "revoke"].includes(endpoint)).reduce((n, [, c]) => n + c, 0);
    const minimumMs = (requests / qpm) * 60_000;
    const peak = Math.max(0, ...Object.values(stats.maxPerWindow[BENCH_CLIENT.id] ?? {}));
    const rejections = Object.values(stats.quotaRejections).reduce((n, c) => n + c, 0);
    const ratio = job.ms / minimumMs;
    log(`quota-bound: ${statusName(job.status)}, ${requests} requests in ${seconds(job.ms)} (minimum ${seconds(minimumMs)}), peak ${peak}/window, ${rejections} rejections`);
    return {
      name: `quota-bound job, ${requests} requests at ${qpm} QPM`,
      figure: `${seconds(job.ms)} vs minimum ${seconds(minimumMs)}; peak ${peak} in any 60 s, ${rejections} × 429`,
      ratio: `${ratio.toFixed(3)} × minimum`,
      target: "≤ 1.05, 0 violations",
      met: job.status === JobStatus.SUCCEEDED && ratio <= 1.05 && rejections === 0 && peak <= qpm,
    };
  } finally {
    await env.close();
  }
}

async function timedJob(env: Environment, mode: FetchMode): Promise<{ ms: number; status: JobStatus }> {
  const started = performance.now();
  const created = await env.stack.fetcher.createFetchJob({ target: { case: "clientId", value: env.clientId }, mode });
  const waited = await waitForJob(created.jobId, { timeoutMs: 1_800_000, client: () => env.stack.fetcher, intervalMs: 25 });
  return { ms: performance.now() - started, status: waited.job?.status ?? JobStatus.UNSPECIFIED };
}

/**
 * The ceiling: one process publishes `total` messages of `bytes` each (a msgID on each, 500
 * PubAcks in flight) into a file-backed stream and, at the same time, consumes and acks them.
 */
async function rawJetStream(natsUrl: string, namespace: string, total: number, bytes: number): Promise<number> {
  // the same client settings as the fetcher's (no eager async traces), on a connection of its own
  const nc = await connect({ servers: natsUrl, noAsyncTraces: true });
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  const stream = `${namespace}_RAWBENCH`;
  const subject = `${namespace}.rawbench.events`;
  await jsm.streams.add({ name: stream, subjects: [subject], retention: RetentionPolicy.Workqueue, storage: StorageType.File, duplicate_window: nanos(30 * 60_000) });
  await jsm.consumers.add(stream, { durable_name: "raw", ack_policy: AckPolicy.Explicit });
  try {
    const payload = randomBytes(bytes);
    const consumer = await js.consumers.get(stream, "raw");
    const started = performance.now();
    const consumed = (async () => {
      const messages = await consumer.consume({ max_messages: 1_000 });
      let n = 0;
      for await (const m of messages) {
        m.ack();
        if (++n >= total) break;
      }
      await messages.close();
    })();
    let inFlight: Promise<unknown>[] = [];
    for (let i = 0; i < total; i++) {
      inFlight.push(js.publish(subject, payload, { msgID: `raw-${i}` }));
      if (inFlight.length >= 500) {
        await Promise.all(inFlight);
        inFlight = [];
      }
    }
    await Promise.all(inFlight);
    await consumed;
    return performance.now() - started;
  } finally {
    await jsm.streams.delete(stream).catch(() => undefined);
    await nc.close();
  }
}

function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1] ?? 0);
  return kb * 1024;
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
