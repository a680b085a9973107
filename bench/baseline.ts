// The naive baseline next to the pipeline: the same job (every review of 600 locations at full
// size), the same emulated Google with 50 ms added to every API call, timed end to end. Google's
// per-project quota is lifted for both (a raised quota): the question is what the design buys,
// not how fast 300 requests a minute can go. The fetcher runs with default settings (in-flight
// tasks follow the latency: FETCH_CONCURRENCY=auto) unless BENCH_FETCH_CONCURRENCY says
// otherwise. The job is timed by its own clock (create → end); the CPU each process spent on it
// is printed per Google request, since the box's load moves wall times far more than CPU.
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { FetchMode } from "../gen/reviewflow/fetcher/v1/fetcher_pb.js";
import type { SeedSpec } from "../emulator/index.js";
import type { BenchFn, BenchRow, BenchSize } from "./types.js";
import { BENCH_CLIENT, createEnvironment } from "./harness/environment.js";
import { statusName, waitForJob } from "./harness/jobs.js";
import { startNatsServer } from "./harness/nats-server.js";
import { createCpuSampler, cpuSpent } from "./harness/process-cpu.js";
import { readAllReviews } from "./harness/review-count.js";
import { count, seconds } from "./harness/table.js";
import { naiveFetchAll } from "./naive-loop.js";

const LATENCY_MS = 50;

const SIZES: Record<BenchSize, { seed: SeedSpec }> = {
  full: { seed: { accounts: 3, locationsPerAccount: 200, reviewsPerLocation: [0, 100] } },
  reduced: { seed: { accounts: 1, locationsPerAccount: 20, reviewsPerLocation: [0, 100] } },
};

export const runBaselineBench: BenchFn = async ({ size, log = () => undefined }) => {
  const spec = SIZES[size];
  const concurrency = process.env.BENCH_FETCH_CONCURRENCY;
  const nats = await startNatsServer();
  try {
    const env = await createEnvironment({
      label: "bench-baseline",
      natsUrl: nats.url,
      emulator: { seed: spec.seed, quotaPerMinute: 1_000_000 },
      stack: { fetchers: 1, env: { GOOGLE_QPM: "1000000", LOG_LEVEL: "warn", ...(concurrency ? { FETCH_CONCURRENCY: concurrency } : {}) } },
    });
    try {
      const data = env.emulator.controls.data();
      const locations = data.accounts.reduce((n, a) => n + a.locations.length, 0);
      env.emulator.controls.addFault({ kind: "latency", latencyMs: LATENCY_MS });
      const job = `${locations} locations, ${count(data.totalReviews)} reviews @${LATENCY_MS} ms`;

      const setting = `FETCH_CONCURRENCY=${concurrency ?? "auto"}`;
      log(`pipeline: one fetch job, ${job}, ${setting}`);
      const sampler = createCpuSampler(env.databaseUrl, () => ({
        fetcher: env.stack.fetcherServices[0]!.pid,
        nats: nats.pid,
        self: process.pid,
      }));
      const before = await sampler.sample();
      const created = await env.stack.fetcher.createFetchJob({ target: { case: "clientId", value: env.clientId }, mode: FetchMode.FULL });
      const waited = await waitForJob(created.jobId, { timeoutMs: 900_000, client: () => env.stack.fetcher, intervalMs: 200 });
      const spent = cpuSpent(before, await sampler.sample());
      await sampler.close();
      const { createTime, endTime } = waited.job ?? {};
      const pipelineMs = createTime && endTime ? timestampMs(endTime) - timestampMs(createTime) : Number.NaN;
      const tally = await readAllReviews(env.nats, env.names);
      log(`pipeline: ${statusName(waited.job?.status ?? 0)} in ${seconds(pipelineMs)}, ${tally.uniqueCreated} reviews on REVIEWS`);

      log(`naive loop: the same ${job}, one request at a time`);
      const token = env.emulator.controls.issueTokens({ client_id: BENCH_CLIENT.id });
      const naive = await naiveFetchAll(env.emulator.url, token.access_token);
      log(`naive loop: ${count(naive.reviews)} reviews in ${seconds(naive.ms)} (${count(naive.requests)} requests)`);
      const perRequest = (ms: number) => (Number.isNaN(ms) ? "n/a" : `${count((ms * 1000) / Math.max(1, naive.requests))} µs`);
      const cpu = `fetcher ${perRequest(spent.fetcher!)}, Postgres ${perRequest(spent.postgres!)}, nats-server ${perRequest(spent.nats!)}, emulator and bench ${perRequest(spent.self!)}`;
      log(`pipeline CPU per Google request: ${cpu}`);

      const ratio = naive.ms / pipelineMs;
      const rows: BenchRow[] = [
        {
          name: `naive sequential googleapis loop, ${job}`,
          figure: `${seconds(naive.ms)} (${count(naive.requests)} requests, ${count(naive.reviews)} reviews)`,
        },
        {
          name: `pipeline, same job (1 fetcher, ${setting}), its own create → end`,
          figure: `${seconds(pipelineMs)} (${statusName(waited.job?.status ?? 0)}, ${count(tally.uniqueCreated)} reviews published)`,
          ratio: `${ratio.toFixed(1)} × faster than naive`,
          target: "≥ 10×",
          met: waited.ended && tally.uniqueCreated === naive.reviews && ratio >= 10,
        },
        { name: "CPU per Google request of the pipeline job (from /proc; the box's load moves wall time, not these)", figure: cpu },
      ];
      return rows;
    } finally {
      await env.close();
    }
  } finally {
    await nats.close();
  }
};
