// What replication costs (figures only, nothing asserted): end-to-end reviews/s of one large job
// (no quota, no latency) with every stream at R3 on a local three-node cluster, as a ratio to the
// same job at R1 on the same cluster in the same run. Two deployments (one at NATS_REPLICAS=1,
// one at 3) stay up side by side; their jobs alternate R1, R3, R3, R1, each against a freshly
// seeded Google of the same size, so the box's drifting load weighs on both alike (after one
// uncounted warm-up job on each).
import { jetstreamManager } from "@nats-io/jetstream";
import type { SeedSpec } from "../emulator/index.js";
import { FetchMode, JobStatus } from "../gen/reviewflow/fetcher/v1/fetcher_pb.js";
import type { BenchFn, BenchRow, BenchSize } from "./types.js";
import { createEnvironment, type Environment } from "./harness/environment.js";
import { statusName, waitForJob } from "./harness/jobs.js";
import { startNatsCluster } from "./harness/nats-cluster.js";
import { count, seconds } from "./harness/table.js";

const SIZES: Record<BenchSize, { seed: SeedSpec; concurrency: number }> = {
  full: { seed: { accounts: 2, locationsPerAccount: 100, reviewsPerLocation: [0, 300] }, concurrency: 16 },
  reduced: { seed: { accounts: 1, locationsPerAccount: 12, reviewsPerLocation: [0, 150] }, concurrency: 8 },
};

interface Run {
  replicas: number;
  reviews: number;
  ms: number;
  status: JobStatus;
}

export const runClusterBench: BenchFn = async ({ size, log = () => undefined }) => {
  const spec = SIZES[size];
  const cluster = await startNatsCluster({ size: 3 });
  log(`own nats cluster "${cluster.name}" (3 nodes on loopback)`);
  const envs = new Map<number, Environment>();
  try {
    for (const replicas of [1, 3]) {
      envs.set(
        replicas,
        await createEnvironment({
          label: `bench-r${replicas}`,
          natsUrl: cluster.url,
          emulator: { seed: "tiny" },
          switchableGoogle: true,
          stack: {
            env: {
              NATS_REPLICAS: String(replicas),
              GOOGLE_QPM: "1000000",
              FETCH_CONCURRENCY: String(spec.concurrency),
              FETCH_POLL_MS: "100",
              LOG_LEVEL: "warn",
            },
          },
        }),
      );
    }
    // a first job on each warms the processes up (JIT, pools, caches) and is not counted
    for (const [replicas, env] of envs) await timedJob(env, replicas, { ...SIZES.reduced.seed, seed: 9_000 + replicas });
    const runs: Run[] = [];
    for (const [i, replicas] of [1, 3, 3, 1].entries()) {
      const run = await timedJob(envs.get(replicas)!, replicas, { ...spec.seed, seed: 9_100 + i });
      runs.push(run);
      log(`R${replicas}: ${count(run.reviews)} reviews in ${seconds(run.ms)} (${count(rate(run))} reviews/s, ${statusName(run.status)})`);
    }
    const mean = (replicas: number) => {
      const of = runs.filter((r) => r.replicas === replicas);
      return of.reduce((sum, r) => sum + rate(r), 0) / of.length;
    };
    const figure = (replicas: number) =>
      `${count(mean(replicas))} reviews/s (mean of ${runs
        .filter((r) => r.replicas === replicas)
        .map((r) => `${count(rate(r))}`)
        .join(" and ")}; ${runs.every((r) => r.status === JobStatus.SUCCEEDED) ? "every job SUCCEEDED" : "NOT every job succeeded"})`;
    const reviews = runs.reduce((sum, r) => sum + r.reviews, 0) / runs.length;
    const rows: BenchRow[] = [
      {
        name: `end-to-end job at R1 on a 3-node cluster, ~${count(reviews)} reviews a job, 1 fetcher, no quota or latency`,
        figure: figure(1),
      },
      {
        name: `the same job with every stream at R3 (NATS_REPLICAS=3)`,
        figure: figure(3),
        ratio: `${(mean(3) / mean(1)).toFixed(2)} × R1, same run`,
      },
    ];
    return rows;
  } finally {
    for (const env of envs.values()) await env.close().catch(() => undefined);
    await cluster.close();
  }
};

function rate(run: Run): number {
  return run.reviews / (run.ms / 1000);
}

/** A fresh Google (new seed, new client), one full job, timed from creation to its end; the reviews are what REVIEWS holds after it. */
async function timedJob(env: Environment, replicas: number, seed: SeedSpec): Promise<Run> {
  await env.switchGoogle({ seed, quotaPerMinute: 1_000_000 }, `r${replicas}-${seed.seed}`);
  const jsm = await jetstreamManager(env.nats);
  // REVIEWS keeps the earlier jobs' events: this job's are the difference
  const before = (await jsm.streams.info(env.names.reviews.stream)).state.messages;
  const started = performance.now();
  const created = await env.stack.fetcher.createFetchJob({ target: { case: "clientId", value: env.clientId }, mode: FetchMode.FULL });
  const waited = await waitForJob(created.jobId, { timeoutMs: 1_800_000, client: () => env.stack.fetcher, intervalMs: 25 });
  const ms = performance.now() - started;
  const reviews = (await jsm.streams.info(env.names.reviews.stream)).state.messages - before;
  return { replicas, reviews, ms, status: waited.job?.status ?? JobStatus.UNSPECIFIED };
}
