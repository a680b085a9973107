import assert from "node:assert/strict";
import { openDatabase } from "../lib/db/index.js";
import { silentLogger } from "../lib/log/index.js";
import { createMetricsRegistry, type Registry } from "../lib/metrics/index.js";
import { connectNats } from "../lib/nats/index.js";
import { JobStatus } from "../gen/reviewflow/fetcher/v1/fetcher_pb.js";
import { createFetcherService, type FetcherServiceInstance } from "../services/fetcher/server.js";
import { TEST_NATS_URL } from "./helpers/index.js";
import { DEMO_CLIENT, readReviewEvents, useFetcherFixture, waitForJob } from "./helpers/fetcher-fixture.js";

/**
 * The emulator's clock runs 3× faster than ours, so its 60 s quota window is 20 s of real time:
 * a quota of 60 requests per emulated minute is 180 per real minute, and the fetchers are told
 * GOOGLE_QPM=170 (real minutes). A ~75-request job then takes ~27 s instead of well over a minute,
 * and still overflows the quota many times over if the two instances did not share one budget.
 */
const SPEEDUP = 3;
const EMULATED_QUOTA = 60;

describe("Two fetcher instances sharing one Google project's quota", function () {
  this.timeout(90_000);
  const start = Date.now();
  let second: FetcherServiceInstance | undefined;
  let closeSecond: () => Promise<void> = async () => undefined;
  // registered before the fixture's hooks, so the second instance stops before its database goes
  after(async () => {
    await second?.stop();
    await closeSecond();
  });
  const f = useFetcherFixture({
    env: { GOOGLE_QPM: "170", FETCH_CONCURRENCY: "4" },
    emulator: {
      seed: { accounts: 2, locationsPerAccount: 30, reviewsPerLocation: [10, 60] },
      quotaPerMinute: EMULATED_QUOTA,
      now: () => start + (Date.now() - start) * SPEEDUP,
    },
    deps: { metrics: createMetricsRegistry("fetcher-a", { processMetrics: false }) },
  });

  it("never exceed the quota in any window, and Google never answers 429", async () => {
    const dataSource = await openDatabase({ databaseUrl: f.config.postgres.url, poolSize: 10 });
    const nats = await connectNats({
      url: TEST_NATS_URL,
      namespace: f.config.nats.namespace,
      ackWaitMs: f.config.fetcher.ackWaitMs,
      maxDeliver: f.config.fetcher.maxDeliver,
    });
    closeSecond = async () => {
      await nats.close();
      await dataSource.destroy();
    };
    const metricsB = createMetricsRegistry("fetcher-b", { processMetrics: false });
    second = createFetcherService({ config: f.config, dataSource, nats, logger: silentLogger, metrics: metricsB });
    await second.start(0);

    const api = f.client();
    const job = await waitForJob(api, (await api.createFetchJob({ target: { case: "accessToken", value: f.issueToken() } })).jobId);
    assert.equal(job.status, JobStatus.SUCCEEDED, job.error);
    assert.equal((await readReviewEvents(f.streams.nats)).length, f.emulator.controls.data().totalReviews);

    const stats = f.emulator.controls.stats();
    const calls = Object.entries(stats.byProject[DEMO_CLIENT])
      .filter(([endpoint]) => endpoint !== "tokeninfo")
      .reduce((n, [, count]) => n + count, 0);
    assert.ok(calls > EMULATED_QUOTA, `the job needs more calls (${calls}) than one window allows`);
    assert.deepEqual(stats.quotaRejections, {});
    const peak = Math.max(...Object.values(stats.maxPerWindow[DEMO_CLIENT]));
    assert.ok(peak <= EMULATED_QUOTA, `peak ${peak} requests in a window, quota ${EMULATED_QUOTA}`);

    // both instances worked, and both waited for the shared budget
    for (const registry of [f.fetcher!.metrics, metricsB]) {
      assert.ok((await counter(registry, "reviewflow_fetch_tasks_total", { outcome: "done" })) > 0);
      assert.ok((await counter(registry, "reviewflow_fetch_quota_waits_total")) > 0);
    }
  });
});

async function counter(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  return (metric?.values ?? [])
    .filter((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want))
    .reduce((sum, v) => sum + Number(v.value), 0);
}
