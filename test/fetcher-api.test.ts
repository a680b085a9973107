import assert from "node:assert/strict";
import { Code, ConnectError } from "@connectrpc/connect";
import { FetchMode, JobStatus } from "../gen/reviewflow/fetcher/v1/fetcher_pb.js";
import { Stage } from "../gen/reviewflow/reviews/v1/tasks_pb.js";
import { pauseAndSettle, useFetcherFixture, waitForJob } from "./helpers/fetcher-fixture.js";

describe("ReviewFetcher API: admission, stages, cancel, watch and bad input", function () {
  this.timeout(30_000);
  const f = useFetcherFixture({ env: { FETCH_MAX_ACTIVE_JOBS: "2" } });

  it("answers INVALID_ARGUMENT to malformed requests", async () => {
    const api = f.client();
    const invalid = async (call: Promise<unknown>, pattern?: RegExp) =>
      assert.rejects(call, (err: unknown) => {
        const e = ConnectError.from(err);
        assert.equal(Code[e.code], "InvalidArgument", e.message);
        if (pattern) assert.match(e.rawMessage, pattern);
        return true;
      });
    await invalid(api.createFetchJob({}));
    await invalid(api.createFetchJob({ target: { case: "clientId", value: "not-a-uuid" } }));
    await invalid(api.createFetchJob({ target: { case: "accessToken", value: "short" } }));
    await invalid(api.createFetchJob({ target: { case: "accessToken", value: f.issueToken() }, mode: 42 as FetchMode }));
    await invalid(api.createFetchJob({ target: { case: "accessToken", value: f.issueToken() }, requestId: "x".repeat(101) }));
    await invalid(api.createFetchJob({ target: { case: "accessToken", value: "ya29.definitely-not-issued-by-google" } }), /tokeninfo/);
    await invalid(api.getFetchJob({ jobId: "42" }));
    await invalid(api.listFetchJobs({ pageSize: 501 }));
    await invalid(api.listFetchJobs({ pageToken: "garbage" }), /page_token/);
    await invalid(api.listReviews({ minRating: 6 }));
    await invalid(api.pauseStage({ stage: "everything" }));
    await invalid(api.replayDeadLetter({ id: "nope" }));
    await assert.rejects(
      api.getFetchJob({ jobId: "00000000-0000-4000-8000-000000000000" }),
      (err: unknown) => ConnectError.from(err).code === Code.NotFound,
    );
  });

  it("pauses a stage on every worker and lists the backlog; resuming lets the job finish", async () => {
    const api = f.client();
    await pauseAndSettle(api, f.streams.nats, "accounts");
    const { jobId } = await api.createFetchJob({ target: { case: "accessToken", value: f.issueToken() } });
    const stages = (await api.listStages({})).stages;
    const accounts = stages.find((s) => s.stage === Stage.ACCOUNTS)!;
    assert.equal(accounts.paused, true);
    assert.equal(accounts.pending, 1n);
    assert.deepEqual(
      stages.filter((s) => s.paused).map((s) => s.stage),
      [Stage.ACCOUNTS],
    );
    assert.equal((await api.getFetchJob({ jobId })).job?.status, JobStatus.QUEUED);

    const resumed = await api.resumeStage({ stage: "accounts" });
    assert.equal(resumed.stage?.paused, false);
    assert.equal((await waitForJob(api, jobId)).status, JobStatus.SUCCEEDED);
    const audit = await f.db.dataSource.query("SELECT action, target_id FROM audit_log WHERE target_type = 'stage' ORDER BY id");
    assert.deepEqual(
      audit.map((r: { action: string }) => r.action),
      ["stage.pause", "stage.resume"],
    );
  });

  it("refuses a job with RESOURCE_EXHAUSTED and a retry hint when admission is full, but answers a repeated request_id", async () => {
    const api = f.client();
    await pauseAndSettle(api, f.streams.nats, "accounts");
    const first = await api.createFetchJob({ target: { case: "accessToken", value: f.issueToken() }, requestId: "nightly-1" });
    const second = await api.createFetchJob({ target: { case: "accessToken", value: f.issueToken() } });
    await assert.rejects(api.createFetchJob({ target: { case: "accessToken", value: f.issueToken() } }), (err: unknown) => {
      const e = ConnectError.from(err);
      assert.equal(Code[e.code], "ResourceExhausted");
      assert.match(e.rawMessage, /FETCH_MAX_ACTIVE_JOBS=2/);
      assert.ok(Number(e.metadata.get("retry-after")) >= 1);
      return true;
    });
    const again = await api.createFetchJob({ target: { case: "accessToken", value: f.issueToken() }, requestId: "nightly-1" });
    assert.equal(again.jobId, first.jobId);

    // cancelled jobs leave admission at once; their queued tasks are dropped when reached
    for (const jobId of [first.jobId, second.jobId]) {
      const { job } = await api.cancelFetchJob({ jobId });
      assert.equal(job?.status, JobStatus.CANCELLED);
      assert.match(job!.error, /cancelled by bootstrap-admin/);
    }
    assert.equal((await api.cancelFetchJob({ jobId: first.jobId })).job?.status, JobStatus.CANCELLED, "cancel is idempotent");
    await api.resumeStage({ stage: "accounts" });
    const { nats } = f.streams;
    while ((await nats.jsm.consumers.info(nats.names.fetch.stream, nats.names.fetch.consumer("accounts"))).num_pending > 0) await pause(50);
    for (const jobId of [first.jobId, second.jobId]) {
      const { job } = await api.getFetchJob({ jobId });
      assert.equal(job?.status, JobStatus.CANCELLED);
      assert.equal(job?.counters?.pages, 0n);
    }
    const done = await waitForJob(api, (await api.createFetchJob({ target: { case: "accessToken", value: f.issueToken() } })).jobId);
    assert.equal(done.status, JobStatus.SUCCEEDED);
    await assert.rejects(
      api.cancelFetchJob({ jobId: done.jobId }),
      (err: unknown) => ConnectError.from(err).code === Code.FailedPrecondition,
    );
  });

  it("streams a job's current state first, then each change until it ends", async () => {
    const api = f.client();
    await pauseAndSettle(api, f.streams.nats, "accounts");
    const { jobId } = await api.createFetchJob({ target: { case: "accessToken", value: f.issueToken() } });
    const states: JobStatus[] = [];
    let tasksDone = -1n;
    const watching = (async () => {
      for await (const { job } of api.watchFetchJob({ jobId })) {
        states.push(job!.status);
        assert.ok(job!.counters!.tasksDone >= tasksDone, "counters only grow");
        tasksDone = job!.counters!.tasksDone;
        if (states.length === 1) await api.resumeStage({ stage: "accounts" });
      }
    })();
    await watching;
    assert.equal(states[0], JobStatus.QUEUED);
    assert.equal(states.at(-1), JobStatus.SUCCEEDED);
    assert.ok(states.length >= 2, `saw ${states.map((s) => JobStatus[s]).join(" → ")}`);
  });

  it("lists jobs newest first, by status and in pages", async () => {
    const api = f.client();
    const all: string[] = [];
    let pageToken = "";
    do {
      const page = await api.listFetchJobs({ pageSize: 2, pageToken });
      all.push(...page.jobs.map((j) => j.jobId));
      pageToken = page.nextPageToken;
    } while (pageToken);
    assert.equal(all.length, 5, "every job this suite created (the refused one was never admitted)");
    assert.equal(new Set(all).size, 5);
    const cancelled = await api.listFetchJobs({ status: JobStatus.CANCELLED });
    assert.equal(cancelled.jobs.length, 2);
    const times = (await api.listFetchJobs({})).jobs.map((j) => Number(j.createTime!.seconds) * 1e3 + j.createTime!.nanos / 1e6);
    assert.deepEqual(
      times,
      [...times].sort((a, b) => b - a),
    );
  });

  it("serves gRPC health and Prometheus metrics on its port", async () => {
    const port = f.port;
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    for (const name of [
      "reviewflow_fetch_tasks_total",
      "reviewflow_fetch_consumer_pending",
      "reviewflow_fetch_publishes_total",
      "reviewflow_fetch_job_duration_seconds",
    ]) {
      assert.match(metrics, new RegExp(name));
    }
    const health = await fetch(`http://127.0.0.1:${port}/grpc.health.v1.Health/Check`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ service: "reviewflow.fetcher.v1.ReviewFetcher" }),
    });
    assert.deepEqual(await health.json(), { status: "SERVING" });
  });
});

async function pause(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

describe("ReviewFetcher maintenance: stalled jobs and retention", function () {
  this.timeout(30_000);
  const f = useFetcherFixture({
    env: { JOB_STALL_TIMEOUT_SECONDS: "1", REVIEW_RETENTION_DAYS: "30" },
    // the sweep runs when the test says so
    deps: { maintenance: { intervalMs: 3_600_000, purgeIntervalMs: 0 } },
  });

  it("ends a job that makes no progress FAILED after JOB_STALL_TIMEOUT_SECONDS, with the reason", async () => {
    const api = f.client();
    await pauseAndSettle(api, f.streams.nats, "accounts");
    const { jobId } = await api.createFetchJob({ target: { case: "accessToken", value: f.issueToken() } });
    let job = (await api.getFetchJob({ jobId })).job!;
    while (job.status === JobStatus.QUEUED) {
      await pause(200);
      await f.fetcher!.maintain();
      job = (await api.getFetchJob({ jobId })).job!;
    }
    assert.equal(job.status, JobStatus.FAILED);
    assert.match(job.error, /no progress within 1 s \(JOB_STALL_TIMEOUT_SECONDS\)/);
    await api.resumeStage({ stage: "accounts" });
  });

  it("purges reviews not seen at Google for REVIEW_RETENTION_DAYS", async () => {
    const api = f.client();
    const job = await waitForJob(api, (await api.createFetchJob({ target: { case: "accessToken", value: f.issueToken() } })).jobId);
    assert.equal(job.status, JobStatus.SUCCEEDED);
    const total = f.emulator.controls.data().totalReviews;
    assert.equal((await api.listReviews({ pageSize: 500 })).reviews.length, total);
    await f.db.dataSource.query(
      "UPDATE reviews SET last_seen_at = now() - interval '31 days' WHERE id IN (SELECT id FROM reviews ORDER BY id LIMIT 2)",
    );
    await f.fetcher!.maintain();
    assert.equal((await api.listReviews({ pageSize: 500 })).reviews.length, total - 2);

    // still at Google: the next full pass brings them back, past every version they had (a
    // purged review keeps its name and version as a tombstone)
    const again = await waitForJob(
      api,
      (await api.createFetchJob({ target: { case: "accessToken", value: f.issueToken() }, mode: FetchMode.FULL })).jobId,
    );
    assert.deepEqual([again.counters!.created, again.counters!.updated, again.counters!.deleted], [2n, 0n, 0n]);
    assert.equal((await api.listReviews({ pageSize: 500 })).reviews.length, total);
    const versions = await f.db.dataSource.query("SELECT max(version)::int AS v FROM reviews");
    assert.equal(versions[0].v, 2);
  });
});
