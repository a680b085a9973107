import assert from "node:assert/strict";
import pg from "pg";
import type { Client } from "@connectrpc/connect";
import { JobStatus, JobTrigger, type ReviewFetcher } from "../gen/reviewflow/fetcher/v1/fetcher_pb.js";
import { createMetricsRegistry } from "../lib/metrics/index.js";
import { silentLogger } from "../lib/log/index.js";
import { createFetcherService, type FetcherServiceInstance } from "../services/fetcher/server.js";
import { readReviewEvents, useFetcherFixture, type FetcherFixture, type TestTenant } from "./helpers/fetcher-fixture.js";
import { pause, until } from "./helpers/waiting.js";

/** A second fetcher instance on the fixture's database and streams (stopped by the suite's `after`). */
async function startAnotherFetcher(f: FetcherFixture, others: FetcherServiceInstance[]): Promise<FetcherServiceInstance> {
  const fetcher = createFetcherService({
    config: f.config,
    dataSource: f.db.dataSource,
    nats: f.streams.nats,
    logger: silentLogger,
    metrics: createMetricsRegistry("fetcher", { processMetrics: false }),
  });
  others.push(fetcher);
  await fetcher.start(0);
  return fetcher;
}

/** Short intervals: the scheduler's whole life in seconds. */
const SYNC_ENV = {
  SYNC_ENABLED: "true",
  SYNC_INCREMENTAL_EVERY_SECONDS: "2",
  SYNC_MIN_INCREMENTAL_SECONDS: "1",
  SYNC_MAX_INCREMENTAL_SECONDS: "4",
  SYNC_FULL_EVERY_SECONDS: "3600",
  SYNC_TICK_MS: "100",
};

describe("the sync scheduler", function () {
  this.timeout(90_000);
  const f = useFetcherFixture({
    tokenService: true,
    env: SYNC_ENV,
    emulator: { seed: { accounts: 1, locationsPerAccount: 3, reviewsPerLocation: [5, 30] } },
  });
  let tenant: TestTenant;
  let clientId: string;
  let api: Client<typeof ReviewFetcher>;
  const others: FetcherServiceInstance[] = [];
  after(async () => {
    for (const other of others) await other.stop();
  });

  before(async () => {
    tenant = await f.createTenant("acme");
    clientId = await f.connectClient(tenant);
    api = f.client(tenant.operator);
  });

  it("reconciles a newly connected client, then turns a new review at Google into an event with nobody creating a job", async () => {
    const reconciled = await until("the client's first full pass", async () => {
      const { jobs } = await api.listFetchJobs({ clientId });
      return jobs.find((j) => j.trigger === JobTrigger.RECONCILIATION && j.status === JobStatus.SUCCEEDED);
    });
    assert.equal(reconciled.counters!.locations, 3n);

    const location = f.emulator.controls.data().accounts[0].locations[1];
    const added = f.emulator.controls.addReview({ location: location.parent, comment: "Found by the schedule", starRating: "FIVE" });
    const event = await until("the new review's event", async () =>
      (await readReviewEvents(f.streams.nats)).find((e) => e.review?.name === added.name),
    );
    const { job } = await api.getFetchJob({ jobId: event.jobId });
    assert.equal(job!.trigger, JobTrigger.SCHEDULE);

    // and says how fresh each location is
    const { locations } = await api.listLocations({ clientId });
    assert.equal(locations.length, 3);
    for (const l of locations) {
      assert.ok(l.lastPassTime && l.lastCompletePassTime && l.newestUpdateTime && l.nextDueTime, `freshness of ${l.googleName}`);
      assert.ok(l.incrementalEverySeconds >= 1 && l.incrementalEverySeconds <= 4, String(l.incrementalEverySeconds));
      assert.ok(l.reviewCount > 0n);
    }
  });

  it("plans on exactly one of two instances, never the same pass twice, and another takes over when the planner dies", async () => {
    const second = await startAnotherFetcher(f, others);
    const planners = () => [f.fetcher!.scheduler.isLeader, second.scheduler.isLeader].filter(Boolean).length;
    for (let i = 0; i < 20; i++) {
      assert.ok(planners() <= 1, "never two planners");
      await pause(100);
    }
    assert.equal(planners(), 1);

    // the planner dies mid-plan (kill -9): its database session ends, and its lock with it
    const leader = f.fetcher!.scheduler.isLeader ? f.fetcher! : second;
    const follower = leader === second ? f.fetcher! : second;
    const admin = new pg.Client({ connectionString: f.db.url });
    await admin.connect();
    const { rowCount } = await admin.query(
      "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    );
    await admin.end();
    assert.equal(rowCount, 1, "one session held the planner's lock");
    await leader.scheduler.stop();
    await until("the other instance to plan", async () => follower.scheduler.isLeader, 10_000);
    await pause(3_000);

    // at most one scheduled pass per location at a time, ever
    const { rows } = await f.db.dataSource
      .query(
        `SELECT a.id FROM fetch_jobs a JOIN fetch_jobs b ON a.target_location = b.target_location AND a.id < b.id
       WHERE a.trigger = 'schedule' AND b.trigger = 'schedule'
         AND a.created_at < COALESCE(b.ended_at, now()) AND b.created_at < COALESCE(a.ended_at, now())`,
      )
      .then((r: { id: string }[]) => ({ rows: r }));
    assert.deepEqual(rows, [], "two scheduled passes over one location overlapped");
  });

  it("skips a client that needs re-consent, with the reason on its policy and in the metrics", async () => {
    f.emulator.controls.revokeGrants({ client_id: "demo-client.apps.googleusercontent.com" });
    await f.tokens.refreshToken({ clientId }).catch(() => undefined);
    const policy = await until("the skip reason", async () => {
      const { policy } = await api.getSyncPolicy({ clientId });
      return policy?.skipReason ? policy : undefined;
    });
    assert.match(policy.skipReason, /re-consent/);
    const planner = [f.fetcher!, ...others].find((instance) => instance.scheduler.isLeader)!;
    const metrics = await planner.metrics.metrics();
    assert.match(metrics, /reviewflow_sync_clients_skipped\{reason="needs_re-consent"[^}]*\} 1/);
    const before = (await api.listFetchJobs({ clientId, pageSize: 500 })).jobs.length;
    await pause(2_000);
    const jobs = (await api.listFetchJobs({ clientId, pageSize: 500 })).jobs;
    assert.ok(jobs.length <= before + 1, "no new scheduled passes for a client that cannot fetch");
  });
});

describe("the sync scheduler with the quota saturated", function () {
  this.timeout(120_000);
  const QPM = 120;
  const f = useFetcherFixture({
    tokenService: true,
    // schedules want far more than the budget: every location due every second, 2 requests a second
    env: {
      ...SYNC_ENV,
      SYNC_INCREMENTAL_EVERY_SECONDS: "1",
      SYNC_MAX_INCREMENTAL_SECONDS: "1",
      SYNC_ADAPTIVE: "false",
      GOOGLE_QPM: String(QPM),
    },
    emulator: { seed: { accounts: 1, locationsPerAccount: 12, reviewsPerLocation: [3, 20] } },
  });
  const others: FetcherServiceInstance[] = [];
  after(async () => {
    for (const other of others) await other.stop();
  });

  it("starts an on-demand job while the schedule keeps the project busy, and never exceeds the quota across two instances", async () => {
    // Google enforces the same quota: any request over it would be refused and counted
    f.emulator.controls.setQuota({ perMinute: QPM });
    await startAnotherFetcher(f, others);
    const tenant = await f.createTenant("busy");
    const clientId = await f.connectClient(tenant);
    const api = f.client(tenant.operator);

    const scheduledActive = async () => {
      const { rows } = await f.db.dataSource
        .query("SELECT count(*)::int AS n FROM fetch_jobs WHERE trigger = 'schedule' AND status IN ('QUEUED','RUNNING')")
        .then((r: { n: number }[]) => ({ rows: r }));
      return rows[0]!.n;
    };
    await until("the schedule to saturate the project", async () => (await scheduledActive()) >= 5);

    const { jobId } = await api.createFetchJob({ target: { case: "clientId", value: clientId } });
    const job = await until(
      "the on-demand job",
      async () => {
        const { job } = await api.getFetchJob({ jobId });
        return job && job.status !== JobStatus.QUEUED && job.status !== JobStatus.RUNNING ? job : undefined;
      },
      90_000,
    );
    assert.equal(job.status, JobStatus.SUCCEEDED, job.error);
    assert.ok((await scheduledActive()) > 0, "the on-demand job did not wait for the schedule's backlog to drain");

    const stats = f.emulator.controls.stats();
    assert.deepEqual(stats.quotaRejections, {}, "Google never refused a request for quota");
    for (const [api, max] of Object.entries(stats.maxPerWindow["demo-client.apps.googleusercontent.com"] ?? {})) {
      assert.ok(max <= QPM, `${api}: ${max} requests in one 60 s window, over ${QPM}`);
    }
  });
});
