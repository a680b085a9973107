import assert from "node:assert/strict";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { FetchMode, JobStatus } from "../gen/reviewflow/fetcher/v1/fetcher_pb.js";
import { ReviewEventType, type ReviewEvent } from "../gen/reviewflow/reviews/v1/events_pb.js";
import { captureLogs } from "./helpers/index.js";
import { readReviewEvents, useFetcherFixture, waitForJob, type TestTenant } from "./helpers/fetcher-fixture.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe("ReviewFetcher pipeline (client jobs through the TokenService)", function () {
  this.timeout(60_000);
  const logs = captureLogs("info");
  const f = useFetcherFixture({
    tokenService: true,
    logger: logs.logger,
    // three locations with 30–120 reviews each: several pages a location (50 a page)
    emulator: { seed: { accounts: 1, locationsPerAccount: 3, reviewsPerLocation: [30, 120] } },
  });
  let tenant: TestTenant;
  let other: TestTenant;
  let clientId: string;
  /** Events read so far, to tell each test's new ones apart. */
  let seen: ReviewEvent[] = [];
  const newEvents = async () => {
    const all = await readReviewEvents(f.streams.nats);
    const fresh = all.slice(seen.length);
    seen = all;
    return fresh;
  };

  before(async () => {
    tenant = await f.createTenant("acme");
    other = await f.createTenant("globex");
    clientId = await f.connectClient(tenant);
  });

  it("publishes each review of a client's job once, on reviews.<client>.<location>", async () => {
    const api = f.client(tenant.operator);
    const created = await api.createFetchJob({ target: { case: "clientId", value: clientId } });
    assert.equal(created.status, JobStatus.QUEUED);
    assert.equal(created.job?.tenantId, tenant.id);
    const job = await waitForJob(api, created.jobId);
    assert.equal(job.status, JobStatus.SUCCEEDED, job.error);

    const total = f.emulator.controls.data().totalReviews;
    const events = await newEvents();
    assert.equal(events.length, total);
    assert.equal(new Set(events.map((e) => e.eventId)).size, total, "every review once");
    for (const event of events) {
      assert.equal(event.type, ReviewEventType.CREATED);
      assert.equal(event.clientId, clientId);
      assert.equal(event.tenantId, tenant.id);
      assert.match(event.locationId, UUID);
      // `<review name>@v<version>`: a review's first event is its version 1
      assert.equal(event.eventId, `${event.review!.name}@v1`);
      assert.deepEqual([event.version, event.previousVersion], [1, 0]);
    }
    const counters = job.counters!;
    assert.equal(counters.accounts, 1n);
    assert.equal(counters.locations, 3n);
    assert.equal(counters.created, BigInt(total));
    assert.equal(counters.reviewsSeen, BigInt(total));
    assert.ok(counters.pages >= 6n, `several pages a location, got ${counters.pages}`);
    assert.equal(counters.tasksDone, counters.tasksTotal);
  });

  it("publishes nothing when a re-fetch finds nothing changed (incremental and full)", async () => {
    const api = f.client(tenant.operator);
    for (const mode of [FetchMode.INCREMENTAL, FetchMode.FULL]) {
      const job = await waitForJob(api, (await api.createFetchJob({ target: { case: "clientId", value: clientId }, mode })).jobId);
      assert.equal(job.status, JobStatus.SUCCEEDED, job.error);
      assert.deepEqual([job.counters!.created, job.counters!.updated, job.counters!.deleted], [0n, 0n, 0n]);
      assert.ok(job.counters!.unchanged > 0n);
    }
    assert.deepEqual(await newEvents(), []);
  });

  it("reports 3 edits and 1 deletion found by a full fetch as 3 updated and 1 deleted events", async () => {
    const api = f.client(tenant.operator);
    const stored = (await api.listReviews({ clientId, pageSize: 20 })).reviews.map((r) => r.review!);
    const [a, b, c, gone] = stored;
    f.emulator.controls.editReview({ name: a.name, comment: "Changed my mind: excellent." });
    f.emulator.controls.editReview({ name: b.name, starRating: "ONE" });
    f.emulator.controls.editReview({ name: c.name, reply: "Thank you for the feedback!" });
    f.emulator.controls.deleteReview({ name: gone.name });

    const job = await waitForJob(
      api,
      (await api.createFetchJob({ target: { case: "clientId", value: clientId }, mode: FetchMode.FULL })).jobId,
    );
    assert.equal(job.status, JobStatus.SUCCEEDED, job.error);
    assert.deepEqual([job.counters!.created, job.counters!.updated, job.counters!.deleted], [0n, 3n, 1n]);

    const events = await newEvents();
    const updated = events.filter((e) => e.type === ReviewEventType.UPDATED);
    const deleted = events.filter((e) => e.type === ReviewEventType.DELETED);
    assert.equal(events.length, 4);
    assert.deepEqual(updated.map((e) => e.review!.name).sort(), [a.name, b.name, c.name].sort());
    assert.deepEqual(
      deleted.map((e) => e.eventId),
      [`${gone.name}@v2`],
    );
    assert.deepEqual(
      updated.map((e) => [e.version, e.previousVersion]),
      [
        [2, 1],
        [2, 1],
        [2, 1],
      ],
    );
    const edited = updated.find((e) => e.review!.name === a.name)!;
    assert.equal(edited.review!.comment, "Changed my mind: excellent.");
    assert.deepEqual(edited.previousUpdateTime, a.updateTime);
    assert.equal(updated.find((e) => e.review!.name === b.name)!.review!.starRating, 1);
    assert.equal(updated.find((e) => e.review!.name === c.name)!.review!.reply?.comment, "Thank you for the feedback!");

    const after = await api.listReviews({ clientId, pageSize: 500 });
    assert.ok(!after.reviews.some((r) => r.review!.name === gone.name), "a deleted review is no longer listed");
  });

  it("picks up an edit and a new review with an incremental fetch", async () => {
    const api = f.client(tenant.operator);
    const [first] = (await api.listReviews({ clientId, pageSize: 1 })).reviews;
    const location = first.review!.locationName;
    const edited = (await api.listReviews({ clientId, pageSize: 50 })).reviews.at(-1)!.review!;
    f.emulator.controls.editReview({ name: edited.name, comment: "Edited long after." });
    const added = f.emulator.controls.addReview({ location, comment: "Brand new", starRating: "FOUR" });

    const job = await waitForJob(api, (await api.createFetchJob({ target: { case: "clientId", value: clientId } })).jobId);
    assert.equal(job.status, JobStatus.SUCCEEDED, job.error);
    const events = await newEvents();
    assert.deepEqual(
      events.map((e) => [ReviewEventType[e.type], e.review!.name]).sort(),
      [
        ["CREATED", added.name],
        ["UPDATED", edited.name],
      ].sort(),
    );
    // incremental: each location stops at its first page, which reaches already-stored reviews
    assert.equal(job.counters!.pages, 3n);
  });

  it("fetches one location for a branch job, by reviewflow id or the business's branch id", async () => {
    const location = f.emulator.controls.data().accounts[0].locations[1];
    const [, accountId, , locationId] = location.parent.split("/");
    const tokens = f.tokens;
    const { branch } = await tokens.createBranch({
      clientId,
      branchId: "vienna-1",
      name: "Vienna",
      accountId,
      locationId,
      managerEmail: "m@example.com",
    });
    const api = f.client(tenant.operator);
    for (const branchId of [branch!.id, "vienna-1"]) {
      const job = await waitForJob(api, (await api.createFetchJob({ target: { case: "branchId", value: branchId } })).jobId);
      assert.equal(job.status, JobStatus.SUCCEEDED, job.error);
      assert.equal(job.branchId, branch!.id);
      assert.equal(job.counters!.accounts, 0n);
      assert.equal(job.counters!.locations, 1n);
      assert.equal(job.counters!.pages, 1n);
    }
    assert.deepEqual(await newEvents(), []);
  });

  it("lists stored reviews newest first, with filters and pages", async () => {
    const api = f.client(tenant.reader);
    const all: string[] = [];
    let pageToken = "";
    let previous = Infinity;
    do {
      const page = await api.listReviews({ clientId, pageSize: 40, pageToken });
      for (const r of page.reviews) {
        const t = timestampDate(r.review!.updateTime!).getTime();
        assert.ok(t <= previous, "most recently updated first");
        previous = t;
        all.push(r.review!.name);
      }
      pageToken = page.nextPageToken;
    } while (pageToken);
    assert.equal(all.length, f.emulator.controls.data().totalReviews);
    assert.equal(new Set(all).size, all.length);

    const location = f.emulator.controls.data().accounts[0].locations[0];
    const byGoogleId = await api.listReviews({ locationId: location.name.split("/")[1], pageSize: 500 });
    assert.equal(byGoogleId.reviews.length, location.reviewCount);
    const byInternalId = await api.listReviews({ locationId: byGoogleId.reviews[0].locationId, pageSize: 500 });
    assert.equal(byInternalId.reviews.length, location.reviewCount);
    const fiveStars = await api.listReviews({ clientId, minRating: 5, pageSize: 500 });
    assert.ok(fiveStars.reviews.length > 0 && fiveStars.reviews.every((r) => r.review!.starRating === 5));
    const newest = byGoogleId.reviews[0].review!.updateTime!;
    assert.equal((await api.listReviews({ locationId: location.parent, updatedAfter: newest })).reviews.length, 0);
  });

  it("keeps tenants apart and lets readers only read", async () => {
    const mine = f.client(tenant.operator);
    const { jobs } = await mine.listFetchJobs({});
    assert.ok(jobs.length >= 5);
    const theirs = f.client(other.operator);
    await rejects(theirs.getFetchJob({ jobId: jobs[0].jobId }), Code.NotFound);
    await rejects(theirs.cancelFetchJob({ jobId: jobs[0].jobId }), Code.NotFound);
    await rejects(theirs.createFetchJob({ target: { case: "clientId", value: clientId } }), Code.NotFound);
    assert.deepEqual((await theirs.listFetchJobs({})).jobs, []);
    assert.deepEqual((await theirs.listReviews({})).reviews, []);

    const reader = f.client(tenant.reader);
    assert.equal((await reader.getFetchJob({ jobId: jobs[0].jobId })).job?.jobId, jobs[0].jobId);
    await rejects(reader.createFetchJob({ target: { case: "clientId", value: clientId } }), Code.PermissionDenied);
    await rejects(reader.pauseStage({ stage: "reviews" }), Code.PermissionDenied);
    // a stage carries every tenant's jobs: a tenant's operator or service key may not stop it
    await rejects(mine.pauseStage({ stage: "reviews" }), Code.PermissionDenied);
    await rejects(f.client(tenant.service).resumeStage({ stage: "reviews" }), Code.PermissionDenied);
    // admin sees every tenant's jobs
    assert.ok((await f.client().listFetchJobs({ clientId })).jobs.length >= 5);
  });

  it("never writes a Google token to a log, a job row or a message", async () => {
    const { accessToken } = await f.tokens.validateToken({ clientId });
    const raw = f.issueToken();
    const job = await waitForJob(f.client(), (await f.client().createFetchJob({ target: { case: "accessToken", value: raw } })).jobId);
    assert.equal(job.status, JobStatus.SUCCEEDED, job.error);
    const rows = JSON.stringify(await f.db.dataSource.query("SELECT * FROM fetch_jobs"));
    const events = JSON.stringify(
      (await readReviewEvents(f.streams.nats)).map((e) => e.review),
      (_k, v) => (typeof v === "bigint" ? String(v) : v),
    );
    for (const token of [accessToken, raw]) {
      assert.ok(!logs.text().includes(token), "token in the log");
      assert.ok(!rows.includes(token), "token in fetch_jobs");
      assert.ok(!events.includes(token), "token in a review event");
    }
    assert.ok(!rows.includes('access_token_sealed":"v1.'), "a raw token is wiped when its job ends");
  });

  it("fails a client's job when its grant needs re-consent", async () => {
    f.emulator.controls.revokeGrants({ client_id: "demo-client.apps.googleusercontent.com" });
    f.emulator.controls.expireTokens({ client_id: "demo-client.apps.googleusercontent.com" });
    const api = f.client(tenant.operator);
    let job;
    try {
      job = await waitForJob(api, (await api.createFetchJob({ target: { case: "clientId", value: clientId } })).jobId);
    } catch (err) {
      // the TokenService may already know: then the job is refused up front
      assert.equal(ConnectError.from(err).code, Code.FailedPrecondition);
      return;
    }
    assert.equal(job.status, JobStatus.FAILED);
    assert.match(job.error, /re-consent/);
  });
});

async function rejects(call: Promise<unknown>, code: Code): Promise<void> {
  await assert.rejects(call, (err: unknown) => {
    assert.equal(Code[ConnectError.from(err).code], Code[code]);
    return true;
  });
}
