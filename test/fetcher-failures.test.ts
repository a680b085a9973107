import assert from "node:assert/strict";
import { JobStatus } from "../gen/reviewflow/fetcher/v1/fetcher_pb.js";
import { Stage } from "../gen/reviewflow/reviews/v1/tasks_pb.js";
import { DeadLetterSchema } from "../gen/reviewflow/reviews/v1/tasks_pb.js";
import { decodeMessage } from "../lib/nats/index.js";
import { DEMO_CLIENT, readReviewEvents, useFetcherFixture, waitForJob } from "./helpers/fetcher-fixture.js";

const OTHER_CLIENT = { id: "other-client.apps.googleusercontent.com", secret: "other-secret" };

describe("ReviewFetcher under Google failures", function () {
  this.timeout(60_000);
  const f = useFetcherFixture({
    tokenService: true,
    // 16 locations with 20–120 reviews: ~60 Google calls a job
    emulator: {
      seed: { accounts: 2, locationsPerAccount: 8, reviewsPerLocation: [20, 120] },
      clients: [{ id: DEMO_CLIENT, secret: "demo-secret" }, OTHER_CLIENT],
    },
  });

  afterEach(() => f.emulator.controls.clearFaults());

  it("delivers every review exactly once despite 10 % injected 5xx and 429 answers", async () => {
    f.emulator.controls.addFault({ kind: "error", status: 503, rate: 0.1 });
    f.emulator.controls.addFault({ kind: "error", status: 500, rate: 0.05 });
    f.emulator.controls.addFault({ kind: "rate_limit", rate: 0.1 });
    const api = f.client();
    const job = await waitForJob(api, (await api.createFetchJob({ target: { case: "accessToken", value: f.issueToken() } })).jobId);
    assert.equal(job.status, JobStatus.SUCCEEDED, job.error);

    const total = f.emulator.controls.data().totalReviews;
    const events = await readReviewEvents(f.streams.nats);
    assert.equal(events.length, total);
    assert.equal(new Set(events.map((e) => e.eventId)).size, total);
    assert.ok(f.emulator.controls.stats().faultsInjected > 0);
    assert.ok(job.counters!.retries > 0n, "faults were retried");
    assert.equal(job.counters!.deadLettered, 0n);
  });

  it("dead-letters a location Google refuses (403), ends PARTIAL, and a replay after the fault is lifted delivers it", async () => {
    // a client (another Google project): its own locations and reviews, so this job's events are
    // all new; and the TokenService hands out its tokens, so the job can be replayed after it ended
    const tenant = await f.createTenant("initech");
    const clientId = await f.connectClient(tenant, OTHER_CLIENT);
    const refused = f.emulator.controls.data().accounts[1].locations[3];
    f.emulator.controls.addFault({ kind: "forbidden", locations: [refused.parent] });
    const before = (await readReviewEvents(f.streams.nats)).length;
    const api = f.client(tenant.operator);
    const job = await waitForJob(api, (await api.createFetchJob({ target: { case: "clientId", value: clientId } })).jobId);
    assert.equal(job.status, JobStatus.PARTIAL);
    assert.equal(job.counters!.deadLettered, 1n);
    assert.match(job.error, /1 task\(s\) dead-lettered/);

    const { deadLetters } = await api.listDeadLetters({ jobId: job.jobId });
    assert.equal(deadLetters.length, 1);
    const [letter] = deadLetters;
    assert.equal(letter.stage, Stage.REVIEWS);
    assert.equal(letter.resource, refused.parent);
    assert.equal(letter.errorCode, "PERMISSION_DENIED");
    assert.equal(letter.httpStatus, 403);
    assert.equal(letter.attempts, 1, "a permanent error is not retried");
    const onStream = await f.streams.nats.jsm.streams.getMessage(f.streams.nats.names.deadLetters.stream, {
      last_by_subj: f.streams.nats.names.deadLetters.subject("reviews"),
    });
    assert.equal(decodeMessage(DeadLetterSchema, onStream!.data, onStream!.header).id, letter.id);

    const total = f.emulator.controls.data().totalReviews;
    const missing = refused.reviewCount;
    assert.equal((await readReviewEvents(f.streams.nats)).length - before, total - missing);

    f.emulator.controls.clearFaults();
    const replayed = await api.replayDeadLetter({ id: letter.id });
    assert.equal(replayed.job?.status, JobStatus.RUNNING);
    assert.ok(replayed.deadLetter?.replayTime);
    const done = await waitForJob(api, job.jobId);
    assert.equal(done.status, JobStatus.SUCCEEDED, done.error);
    assert.equal(done.counters!.deadLettered, 0n);
    const events = (await readReviewEvents(f.streams.nats)).slice(before);
    assert.equal(events.length, total, "the refused location's reviews arrived, each once");
    assert.equal(new Set(events.map((e) => e.eventId)).size, total);
    await assert.rejects(api.replayDeadLetter({ id: letter.id }), /already replayed/);
  });

  it("refuses to replay a raw-token job's dead letter once the job ended (its token is wiped)", async () => {
    const refused = f.emulator.controls.data().accounts[0].locations[0];
    f.emulator.controls.addFault({ kind: "forbidden", locations: [refused.parent] });
    const api = f.client();
    const job = await waitForJob(api, (await api.createFetchJob({ target: { case: "accessToken", value: f.issueToken() } })).jobId);
    assert.equal(job.status, JobStatus.PARTIAL);
    const [letter] = (await api.listDeadLetters({ jobId: job.jobId })).deadLetters;
    await assert.rejects(api.replayDeadLetter({ id: letter.id }), /wiped when it ended/);
  });
});

describe("ReviewFetcher when JetStream gives up on a task", function () {
  this.timeout(30_000);
  const f = useFetcherFixture({ env: { FETCH_MAX_DELIVER: "2", FETCH_ACK_WAIT_MS: "1000" } });

  it("dead-letters it from the MAX_DELIVERIES advisory and removes it from FETCH", async () => {
    const api = f.client();
    const { nats } = f.streams;
    await api.pauseStage({ stage: "accounts" });
    // the paused worker's last pull request (at most 1 s) must be gone before the task arrives
    while ((await nats.jsm.consumers.info(nats.names.fetch.stream, nats.names.fetch.consumer("accounts"))).num_waiting > 0) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const { jobId } = await api.createFetchJob({ target: { case: "accessToken", value: f.issueToken() } });
    // a worker that takes the task and dies, twice: nobody acknowledges it
    const consumer = await nats.js.consumers.get(nats.names.fetch.stream, nats.names.fetch.consumer("accounts"));
    for (let i = 0; i < 2; i++) assert.ok(await consumer.next({ expires: 5_000 }), `delivery ${i + 1}`);
    // JetStream notices the exhausted task (and sends the advisory) when someone pulls again
    assert.equal(await consumer.next({ expires: 3_000 }), null, "no third delivery");
    const job = await waitForJob(api, jobId);
    assert.equal(job.status, JobStatus.PARTIAL);
    const [letter] = (await api.listDeadLetters({ jobId })).deadLetters;
    assert.equal(letter.errorCode, "MAX_DELIVERIES");
    assert.equal(letter.attempts, 2);
    assert.equal((await nats.jsm.streams.info(nats.names.fetch.stream)).state.messages, 0);
    await api.resumeStage({ stage: "accounts" });
  });
});
