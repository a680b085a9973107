// The naive baseline next to the pipeline: the same job (every review of 600 locations at full
// size), the same emulated Google with 50 ms added to every API call, timed end to end. Google's
// per-project quota is lifted for both (a raised quota): the question is what the design buys,
// not how fast 300 requests a minute can go. The fetcher runs with default settings (in-flight
// tasks follow the latency: FETCH_CONCURRENCY=auto) unless BENCH_FETCH_CONCURRENCY says
// otherwise. The job is timed by its own clock (create → end); the CPU each process spent on it
// is printed per Google request, since the box's load moves wall times far more than CPU.
//
// The job runs twice: first on a freshly started fetcher (every earlier row of README's table is
// this one), then for a second client on the same Google data (the same work: its own rows and
// events) on the fetcher the first job warmed up. A fresh Node process runs its code in V8's
// lower tiers and spends threads compiling it meanwhile; a fetcher in service has done that
// long before.
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
      const sampler = createCpuSampler(env.databaseUrl, () => ({
        fetcher: env.stack.fetcherServices[0]!.pid,
        nats: nats.pid,
        self: process.pid,
      }));
      const runJob = async (which: string) => {
        log(`pipeline, ${which}: one fetch job, ${job}, ${setting}`);
        const before = await sampler.sample();
        const created = await env.stack.fetcher.createFetchJob({ target: { case: "clientId", value: env.clientId }, mode: FetchMode.FULL });
        const waited = await waitForJob(created.jobId, { timeoutMs: 900_000, client: () => env.stack.fetcher, intervalMs: 200 });
        const spent = cpuSpent(before, await sampler.sample());
        const { createTime, endTime } = waited.job ?? {};
        const ms = createTime && endTime ? timestampMs(endTime) - timestampMs(createTime) : Number.NaN;
        // REVIEWS holds both clients' events: each job counts its own
        const tally = await readAllReviews(env.nats, env.names, 30_000, env.clientId);
        const status = statusName(waited.job?.status ?? 0);
        log(`pipeline, ${which}: ${status} in ${seconds(ms)}, ${tally.uniqueCreated} reviews on REVIEWS`);
        return { ms, spent, status, ended: waited.ended, published: tally.uniqueCreated };
      };
      const cold = await runJob("fresh fetcher");
      await env.addClient("bench-baseline-warm");
      const warm = await runJob("warmed-up fetcher, second client");
      await sampler.close();

      log(`naive loop: the same ${job}, one request at a time`);
      const token = env.emulator.controls.issueTokens({ client_id: BENCH_CLIENT.id });
      const naive = await naiveFetchAll(env.emulator.url, token.access_token);
      log(`naive loop: ${count(naive.reviews)} reviews in ${seconds(naive.ms)} (${count(naive.requests)} requests)`);
      const perRequest = (ms: number | undefined) =>
        ms === undefined || Number.isNaN(ms) ? "n/a" : `${count((ms * 1000) / Math.max(1, naive.requests))} µs`;
      const cpuOf = ({ spent }: typeof cold) =>
        `fetcher ${perRequest(spent.fetcher)}, Postgres ${perRequest(spent.postgres)}, nats-server ${perRequest(spent.nats)}, emulator and bench ${perRequest(spent.self)}`;
      log(`pipeline CPU per Google request: fresh ${cpuOf(cold)}; warmed up ${cpuOf(warm)}`);

      const pipelineRow = (run: typeof cold, name: string): BenchRow => {
        const ratio = naive.ms / run.ms;
        return {
          name,
          figure: `${seconds(run.ms)} (${run.status}, ${count(run.published)} reviews published)`,
          ratio: `${ratio.toFixed(1)} × faster than naive`,
          target: "≥ 10×",
          met: run.ended && run.published === naive.reviews && ratio >= 10,
        };
      };
      const rows: BenchRow[] = [
        {
          name: `naive sequential googleapis loop, ${job}`,
          figure: `${seconds(naive.ms)} (${count(naive.requests)} requests, ${count(naive.reviews)} reviews)`,
        },
        pipelineRow(cold, `pipeline, same job (1 fetcher, ${setting}), its own create → end`),
        { name: "CPU per Google request of the pipeline job (from /proc; the box's load moves wall time, not these)", figure: cpuOf(cold) },
        pipelineRow(warm, `pipeline, same job for a second client on the fetcher the first job warmed up (V8 compiled)`),
        { name: "CPU per Google request of that job", figure: cpuOf(warm) },
      ];
      return rows;
    } finally {
      await env.close();
    }
  } finally {
    await nats.close();
  }
};
