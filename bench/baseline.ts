// The naive baseline next to the pipeline: the same job (every review of 600 locations at full
// size), the same emulated Google with 50 ms added to every API call, timed end to end. Google's
// per-project quota is lifted for both (a raised quota): the question is what the design buys,
// not how fast 300 requests a minute can go.
import { FetchMode } from "../gen/reviewflow/fetcher/v1/fetcher_pb.js";
import type { SeedSpec } from "../emulator/index.js";
import type { BenchFn, BenchRow, BenchSize } from "./types.js";
import { BENCH_CLIENT, createEnvironment } from "./harness/environment.js";
import { statusName, waitForJob } from "./harness/jobs.js";
import { startNatsServer } from "./harness/nats-server.js";
import { readAllReviews } from "./harness/review-count.js";
import { count, seconds } from "./harness/table.js";
import { naiveFetchAll } from "./naive-loop.js";

const LATENCY_MS = 50;

const SIZES: Record<BenchSize, { seed: SeedSpec; concurrency: number }> = {
  full: { seed: { accounts: 3, locationsPerAccount: 200, reviewsPerLocation: [0, 100] }, concurrency: 32 },
  reduced: { seed: { accounts: 1, locationsPerAccount: 20, reviewsPerLocation: [0, 100] }, concurrency: 16 },
};

export const runBaselineBench: BenchFn = async ({ size, log = () => undefined }) => {
  const spec = SIZES[size];
  const concurrency = Number(process.env.BENCH_FETCH_CONCURRENCY ?? spec.concurrency);
  const nats = await startNatsServer();
  try {
    const env = await createEnvironment({
      label: "bench-baseline",
      natsUrl: nats.url,
      emulator: { seed: spec.seed, quotaPerMinute: 1_000_000 },
      stack: { fetchers: 1, env: { GOOGLE_QPM: "1000000", FETCH_CONCURRENCY: String(concurrency), FETCH_POLL_MS: "100" } },
    });
    try {
      const data = env.emulator.controls.data();
      const locations = data.accounts.reduce((n, a) => n + a.locations.length, 0);
      env.emulator.controls.addFault({ kind: "latency", latencyMs: LATENCY_MS });
      const job = `${locations} locations, ${count(data.totalReviews)} reviews @${LATENCY_MS} ms`;

      log(`pipeline: one fetch job, ${job}, FETCH_CONCURRENCY=${concurrency}`);
      const started = performance.now();
      const created = await env.stack.fetcher.createFetchJob({ target: { case: "clientId", value: env.clientId }, mode: FetchMode.FULL });
      const waited = await waitForJob(created.jobId, { timeoutMs: 900_000, client: () => env.stack.fetcher, intervalMs: 50 });
      const pipelineMs = performance.now() - started;
      const tally = await readAllReviews(env.nats, env.names);
      log(`pipeline: ${statusName(waited.job?.status ?? 0)} in ${seconds(pipelineMs)}, ${tally.uniqueCreated} reviews on REVIEWS`);

      log(`naive loop: the same ${job}, one request at a time`);
      const token = env.emulator.controls.issueTokens({ client_id: BENCH_CLIENT.id });
      const naive = await naiveFetchAll(env.emulator.url, token.access_token);
      log(`naive loop: ${count(naive.reviews)} reviews in ${seconds(naive.ms)} (${count(naive.requests)} requests)`);

      const ratio = naive.ms / pipelineMs;
      const rows: BenchRow[] = [
        { name: `naive sequential googleapis loop, ${job}`, figure: `${seconds(naive.ms)} (${count(naive.requests)} requests, ${count(naive.reviews)} reviews)` },
        {
          name: `pipeline, same job (1 fetcher, FETCH_CONCURRENCY=${concurrency})`,
          figure: `${seconds(pipelineMs)} (${statusName(waited.job?.status ?? 0)}, ${count(tally.uniqueCreated)} reviews published)`,
          ratio: `${ratio.toFixed(1)} × faster than naive`,
          target: "≥ 10×",
          met: waited.ended && tally.uniqueCreated === naive.reviews && ratio >= 10,
        },
      ];
      return rows;
    } finally {
      await env.close();
    }
  } finally {
    await nats.close();
  }
};
