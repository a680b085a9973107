import assert from "node:assert/strict";
import { JobStatus } from "../gen/reviewflow/fetcher/v1/fetcher_pb.js";
import { fetcherClient, readReviewEvents, useFetcherFixture, waitForJob } from "./helpers/fetcher-fixture.js";
import { FetcherProcess, freePort } from "./helpers/fetcher-process.js";
import { TEST_ADMIN_KEY } from "./helpers/index.js";

describe("ReviewFetcher process killed mid-job", function () {
  this.timeout(90_000);
  // registered before the fixture's hooks: no fetcher outlives the database and streams it uses
  const children: FetcherProcess[] = [];
  after(async () => {
    for (const child of children) child.kill("SIGKILL");
    await Promise.all(children.map((c) => c.exited));
  });
  const f = useFetcherFixture({
    inProcess: false,
    // 12 locations of 60–200 reviews: ~40 review pages
    emulator: { seed: { accounts: 2, locationsPerAccount: 6, reviewsPerLocation: [60, 200] } },
  });

  it("completes the job after a restart, losing no review and publishing none twice", async () => {
    const port = await freePort();
    const env = f.childEnv({ FETCHER_PORT: String(port) });
    const first = new FetcherProcess(env);
    children.push(first);
    await first.ready(port);
    const api = fetcherClient(`http://127.0.0.1:${port}`, TEST_ADMIN_KEY);

    // slow pages, so the kill lands in the middle of the job
    f.emulator.controls.addFault({ endpoint: "reviews.list", kind: "latency", latencyMs: 150 });
    const { jobId } = await api.createFetchJob({ target: { case: "accessToken", value: f.issueToken() } });
    let pagesAtKill: number;
    for (;;) {
      pagesAtKill = Number((await api.getFetchJob({ jobId })).job!.counters!.pages);
      if (pagesAtKill >= 8) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    first.kill("SIGKILL");
    assert.equal(await first.exited, null, "killed by the signal");
    f.emulator.controls.clearFaults();

    const second = new FetcherProcess(env);
    children.push(second);
    await second.ready(port);
    const job = await waitForJob(api, jobId);
    assert.equal(job.status, JobStatus.SUCCEEDED, `${job.error}\n${second.log}`);
    assert.ok(job.counters!.pages > BigInt(pagesAtKill), `the kill came mid-job (${pagesAtKill} of ${job.counters!.pages} pages)`);

    const total = f.emulator.controls.data().totalReviews;
    const events = await readReviewEvents(f.streams.nats);
    assert.equal(new Set(events.map((e) => e.review!.name)).size, total, "no review lost");
    assert.equal(events.length, total, "none published twice");
    assert.equal(job.counters!.created, BigInt(total));
    assert.equal(job.counters!.tasksDone, job.counters!.tasksTotal);

    second.kill("SIGTERM");
    assert.equal(await second.exited, 0, `graceful shutdown:\n${second.log}`);
  });
});
