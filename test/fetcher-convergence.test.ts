import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import type { Client } from "@connectrpc/connect";
import { FetchMode, JobStatus, type FetchJob, type ReviewFetcher } from "../gen/reviewflow/fetcher/v1/fetcher_pb.js";
import { ReviewEventSchema, ReviewEventType } from "../gen/reviewflow/reviews/v1/events_pb.js";
import type { StarRating } from "../emulator/types.js";
import {
  DEMO_CLIENT,
  fetcherClient,
  readReviewEvents,
  useFetcherFixture,
  waitForJob,
  type FetcherFixture,
  type TestTenant,
} from "./helpers/fetcher-fixture.js";
import { assertConverged, googleTruth, replay } from "./helpers/convergence.js";
import { FetcherProcess, freePort } from "./helpers/fetcher-process.js";
import { startNatsServer, type NatsServer } from "../bench/harness/nats-server.js";
import { startGoogleEmulator } from "../emulator/index.js";
import type { GoogleEndpoints } from "../lib/config/index.js";
import { create, equals, toBinary } from "@bufbuild/protobuf";
import { ReviewSchema, type Review } from "../gen/reviewflow/reviews/v1/review_pb.js";
import { TEST_ADMIN_KEY } from "./helpers/index.js";
import { pause } from "./helpers/waiting.js";
import { createDb } from "../services/fetcher/store/db.js";
import { claimPass } from "../services/fetcher/store/location-pass-store.js";

const STARS: StarRating[] = ["ONE", "TWO", "THREE", "FOUR", "FIVE"];

/**
 * The promise of REVIEWS: a subscriber that replays it in order holds exactly what Google holds,
 * whatever mix of jobs ran. Each test ends by replaying the whole stream for the client and
 * comparing it with the emulator: same reviews, same content, no false delete, nothing twice,
 * no event that changed nothing, one review's versions in order.
 */
/** What every convergence test needs: Google's truth, changes made at Google, and the final check. */
function useConvergence(
  f: FetcherFixture,
  client: () => { id: string; api: Client<typeof ReviewFetcher>; admin: Client<typeof ReviewFetcher> },
) {
  const deletedAtGoogle = new Set<string>();
  let step = 0;
  const truth = () => googleTruth(f.config.google.endpoints, f.issueToken());
  return {
    deletedAtGoogle,
    truth,
    async full(): Promise<FetchJob> {
      const { id, api } = client();
      return waitForJob(api, (await api.createFetchJob({ target: { case: "clientId", value: id }, mode: FetchMode.FULL })).jobId);
    },
    async converged(): Promise<void> {
      assertConverged(replay(await readReviewEvents(f.streams.nats), client().id), await truth(), deletedAtGoogle);
    },
    /** Edits (deep in the list too, some keeping updateTime), additions and deletions at Google. */
    async changeGoogle(): Promise<void> {
      const reviews = [...(await truth()).values()];
      const pick = (i: number): Review => reviews[(step * 7919 + i * 104_729) % reviews.length]!;
      step++;
      const touched = new Set<string>();
      const fresh = (i: number) => {
        let r = pick(i);
        for (let k = 1; touched.has(r.name); k++) r = pick(i + k * 13);
        touched.add(r.name);
        return r;
      };
      for (let i = 0; i < 4; i++) f.emulator.controls.editReview({ name: fresh(i).name, comment: `edited in round ${step} (${i})` });
      f.emulator.controls.editReview({ name: fresh(4).name, starRating: STARS[step % 5], keepUpdateTime: true });
      f.emulator.controls.editReview({ name: fresh(5).name, reply: `reply of round ${step}`, keepUpdateTime: true });
      for (let i = 6; i < 8; i++) {
        const gone = fresh(i);
        f.emulator.controls.deleteReview({ name: gone.name });
        deletedAtGoogle.add(gone.name);
      }
      for (const location of f.emulator.controls.data().accounts[0].locations.slice(0, 2)) {
        f.emulator.controls.addReview({ location: location.parent, comment: `new in round ${step}`, starRating: "FIVE" });
      }
    },
    async pauseReviews(): Promise<void> {
      await client().admin.pauseStage({ stage: "reviews" });
      const { nats } = f.streams;
      while ((await nats.jsm.consumers.info(nats.names.fetch.stream, nats.names.fetch.consumer("reviews"))).num_waiting > 0)
        await pause(50);
    },
  };
}

describe("REVIEWS converges to Google under overlapping jobs", function () {
  this.timeout(120_000);
  const f = useFetcherFixture({
    tokenService: true,
    // four locations of 60–180 reviews: 2–4 pages each
    emulator: { seed: { accounts: 1, locationsPerAccount: 4, reviewsPerLocation: [60, 180] } },
  });
  let tenant: TestTenant;
  let clientId: string;
  let api: Client<typeof ReviewFetcher>;
  const c = useConvergence(f, () => ({ id: clientId, api, admin: f.client() }));
  const { deletedAtGoogle, truth, full, converged } = c;

  before(async () => {
    // the test's own reads of Google's truth must not eat the project's quota
    f.emulator.controls.setQuota({ perMinute: 1_000_000 });
    tenant = await f.createTenant("acme");
    clientId = await f.connectClient(tenant);
    api = f.client(tenant.operator);
    assert.equal((await full()).status, JobStatus.SUCCEEDED);
    await converged();
  });

  afterEach(async () => {
    f.emulator.controls.clearFaults();
    await f.client().resumeStage({ stage: "reviews" });
  });

  it("two overlapping full jobs, with changes at Google before and while they run", async () => {
    await c.pauseReviews();
    const first = (await api.createFetchJob({ target: { case: "clientId", value: clientId }, mode: FetchMode.FULL })).jobId;
    const second = (await api.createFetchJob({ target: { case: "clientId", value: clientId }, mode: FetchMode.FULL })).jobId;
    while (Number((await api.getFetchJob({ jobId: first })).job!.counters!.locations) < 4) await pause(20);
    await c.changeGoogle();
    f.emulator.controls.addFault({ endpoint: "reviews.list", kind: "latency", latencyMs: 30 });
    await f.client().resumeStage({ stage: "reviews" });
    await pause(150);
    await c.changeGoogle();
    const jobs = await Promise.all([waitForJob(api, first), waitForJob(api, second)]);
    for (const job of jobs) {
      assert.equal(job.status, JobStatus.SUCCEEDED, job.error);
      assert.equal(job.counters!.tasksDone, job.counters!.tasksTotal);
    }
    // one of them ran each location's pass after the other: between them they saw every change
    // made before the resume; the later changes need one more pass to be seen
    f.emulator.controls.clearFaults();
    assert.equal((await full()).status, JobStatus.SUCCEEDED);
    await converged();
  });

  it("a full, an incremental and a branch's full job at once, with changes while they run", async () => {
    const location = f.emulator.controls.data().accounts[0].locations[1];
    const [, accountId, , locationId] = location.parent.split("/");
    const { branch } = await f.tokens.createBranch({
      clientId,
      branchId: "overlap-1",
      name: "Overlap",
      accountId,
      locationId,
      managerEmail: "m@example.com",
    });
    await c.pauseReviews();
    const ids = [
      (await api.createFetchJob({ target: { case: "clientId", value: clientId }, mode: FetchMode.FULL })).jobId,
      (await api.createFetchJob({ target: { case: "clientId", value: clientId }, mode: FetchMode.INCREMENTAL })).jobId,
      (await api.createFetchJob({ target: { case: "branchId", value: branch!.id }, mode: FetchMode.FULL })).jobId,
    ];
    await c.changeGoogle();
    f.emulator.controls.addFault({ endpoint: "reviews.list", kind: "latency", latencyMs: 30 });
    await f.client().resumeStage({ stage: "reviews" });
    await pause(100);
    await c.changeGoogle();
    for (const job of await Promise.all(ids.map((id) => waitForJob(api, id)))) assert.equal(job.status, JobStatus.SUCCEEDED, job.error);
    f.emulator.controls.clearFaults();
    assert.equal((await full()).status, JobStatus.SUCCEEDED);
    await converged();
  });

  it("a review deleted and then back, and a change that keeps updateTime", async () => {
    const [victim, quiet] = [...(await truth()).values()].slice(-2);
    f.emulator.controls.deleteReview({ name: victim!.name });
    deletedAtGoogle.add(victim!.name);
    assert.equal((await full()).counters!.deleted, 1n);
    await converged();

    const reviewId = victim!.name.split("/").pop()!;
    f.emulator.controls.addReview({ location: victim!.name.split("/reviews/")[0]!, reviewId, comment: "I am back", starRating: "TWO" });
    f.emulator.controls.editReview({ name: quiet!.name, comment: "same time, other words", keepUpdateTime: true });
    const job = await full();
    assert.deepEqual([job.counters!.created, job.counters!.updated, job.counters!.deleted], [1n, 1n, 0n]);
    await converged();

    const events = (await readReviewEvents(f.streams.nats)).filter((e) => e.review!.name === victim!.name);
    const last = events.slice(-2);
    assert.deepEqual(
      last.map((e) => e.type),
      [ReviewEventType.DELETED, ReviewEventType.CREATED],
    );
    assert.equal(last[1]!.version, last[0]!.version + 1);
    const quietEvents = (await readReviewEvents(f.streams.nats)).filter((e) => e.review!.name === quiet!.name);
    const edit = quietEvents.at(-1)!;
    assert.equal(edit.type, ReviewEventType.UPDATED);
    assert.deepEqual(edit.review!.updateTime, edit.previousUpdateTime, "Google kept the time; the content hash saw the change");
  });

  it("an edit that moves a deep review to the top while a full pass pages through its location is an update, not a delete", async () => {
    const data = f.emulator.controls.data();
    const location = data.accounts[0].locations.reduce((a, b) => (b.reviewCount > a.reviewCount ? b : a));
    const reviews = [...(await truth()).values()].filter((r) => r.name.startsWith(`${location.parent}/`));
    const deepest = reviews.at(-1)!;
    f.emulator.controls.addFault({ endpoint: "reviews.list", kind: "latency", latencyMs: 200 });
    const { jobId } = await api.createFetchJob({ target: { case: "clientId", value: clientId }, mode: FetchMode.FULL });
    // once the pass has read its first pages, the oldest review is edited: it moves to page 1
    while (Number((await api.getFetchJob({ jobId })).job!.counters!.pages) < 4) await pause(10);
    f.emulator.controls.editReview({ name: deepest.name, comment: "edited while the pass was paging" });
    f.emulator.controls.clearFaults();
    const job = await waitForJob(api, jobId);
    assert.equal(job.status, JobStatus.SUCCEEDED, job.error);
    assert.equal(job.counters!.deleted, 0n);
    const events = (await readReviewEvents(f.streams.nats)).filter((e) => e.review!.name === deepest.name);
    assert.equal(events.at(-1)!.type, ReviewEventType.UPDATED);
    assert.equal(events.at(-1)!.review!.comment, "edited while the pass was paging");
    await converged();
  });

  it("never takes a duplicate for ours: a foreign event under a review's next version id moves the review past it", async () => {
    const location = f.emulator.controls.data().accounts[0].locations[2];
    const name = f.emulator.controls.addReview({
      location: location.parent,
      reviewId: "foreign-1",
      comment: "real words",
      starRating: "FOUR",
    }).name;
    // someone else's event already holds the id our version 1 would get (e.g. a database restored
    // from a backup while the stream kept its history)
    const foreign = create(ReviewEventSchema, {
      eventId: `${name}@v1`,
      type: ReviewEventType.CREATED,
      clientId,
      version: 1,
      review: { name, comment: "not what Google says", starRating: 1 },
    });
    const { nats } = f.streams;
    const ack = await nats.js.publish(nats.names.reviews.subject(clientId, "elsewhere"), toBinary(ReviewEventSchema, foreign), {
      msgID: `${clientId}/${name}@v1`,
    });
    assert.equal(ack.duplicate, false);

    const job = await full();
    assert.equal(job.counters!.created, 1n);
    const events = (await readReviewEvents(f.streams.nats)).filter((e) => e.review!.name === name);
    assert.deepEqual(
      events.map((e) => [e.version, e.review!.comment]),
      [
        [1, "not what Google says"],
        [2, "real words"],
      ],
    );
    await converged();
  });

  it("publishes nothing when nothing changed, whatever ran before", async () => {
    const before = (await readReviewEvents(f.streams.nats)).length;
    for (const mode of [FetchMode.INCREMENTAL, FetchMode.FULL]) {
      const job = await waitForJob(api, (await api.createFetchJob({ target: { case: "clientId", value: clientId }, mode })).jobId);
      assert.deepEqual([job.counters!.created, job.counters!.updated, job.counters!.deleted], [0n, 0n, 0n]);
    }
    assert.equal((await readReviewEvents(f.streams.nats)).length, before);
  });
});

describe("REVIEWS converges to Google from a new client's first pass", function () {
  this.timeout(120_000);
  // three locations of 120–200 reviews: 3–4 pages each, all read with nothing stored
  const f = useFetcherFixture({
    tokenService: true,
    emulator: { seed: { accounts: 1, locationsPerAccount: 3, reviewsPerLocation: [120, 200] } },
  });
  let clientId: string;
  let api: Client<typeof ReviewFetcher>;
  const c = useConvergence(f, () => ({ id: clientId, api, admin: f.client() }));

  it("pages of new locations compare with nothing stored, while Google changes under them; the next pass sees the rest", async () => {
    f.emulator.controls.setQuota({ perMinute: 1_000_000 });
    const tenant = await f.createTenant("fresh");
    clientId = await f.connectClient(tenant);
    api = f.client(tenant.operator);
    f.emulator.controls.addFault({ endpoint: "reviews.list", kind: "latency", latencyMs: 100 });
    const { jobId } = await api.createFetchJob({ target: { case: "clientId", value: clientId }, mode: FetchMode.FULL });
    // edits (some keeping their place in the list), additions and deletions, before and after
    // the pages that hold them are read
    while (Number((await api.getFetchJob({ jobId })).job!.counters!.pages) < 3) await pause(10);
    await c.changeGoogle();
    f.emulator.controls.clearFaults();
    const first = await waitForJob(api, jobId);
    assert.equal(first.status, JobStatus.SUCCEEDED, first.error);
    // a first pass only creates: every version it records is a first one, published once
    assert.equal(first.counters!.updated, 0n);
    assert.equal(first.counters!.deleted, 0n);
    const events = (await readReviewEvents(f.streams.nats)).filter((e) => e.clientId === clientId);
    assert.equal(BigInt(events.length), first.counters!.created);
    assert.ok(events.every((e) => e.type === ReviewEventType.CREATED && e.version === 1));
    assert.equal((await c.full()).status, JobStatus.SUCCEEDED);
    await c.converged();
  });

  it("a pass's lease tells whether its location has nothing stored, a tombstone counting as stored", async () => {
    const ds = f.db.dataSource;
    const sql = createDb(ds);
    const [location] = (await ds.query(
      `INSERT INTO locations (id, scope_key, google_name) VALUES (gen_random_uuid(), 'lease-test', 'accounts/1/locations/2') RETURNING id`,
    )) as { id: string }[];
    const claim = () =>
      claimPass(sql, { locationId: location!.id, jobId: randomUUID(), taskId: "t", task: new Uint8Array(), leaseSeconds: 60 });
    assert.deepEqual(await claim(), { acquired: true, nothingStored: true });
    // the pass ends; a review deleted long ago is all the location holds now
    await ds.query(`UPDATE locations SET pass_job = NULL WHERE id = $1`, [location!.id]);
    await ds.query(
      `INSERT INTO reviews (location_id, name, star_rating, update_time, review_pb, content_hash, deleted_at)
       VALUES ($1, 'accounts/1/locations/2/reviews/3', 0, now(), ''::bytea, '', now())`,
      [location!.id],
    );
    assert.deepEqual(await claim(), { acquired: true, nothingStored: false });
  });
});

describe("REVIEWS converges to Google through crashes and restarts", function () {
  this.timeout(180_000);
  // registered before the fixtures' hooks: no fetcher outlives the database, streams and NATS it uses
  const children: FetcherProcess[] = [];
  let nats: NatsServer | undefined;
  after(async () => {
    for (const child of children) child.kill("SIGKILL");
    await Promise.all(children.map((c) => c.exited));
  });
  after(async () => nats?.close());
  before(async function () {
    this.timeout(20_000);
    nats = await startNatsServer();
  });
  const f = useFetcherFixture({
    tokenService: true,
    inProcess: false,
    natsUrl: () => nats!.url,
    emulator: { seed: { accounts: 1, locationsPerAccount: 6, reviewsPerLocation: [60, 180] } },
  });
  let clientId: string;
  let api: Client<typeof ReviewFetcher>;
  let admin: Client<typeof ReviewFetcher>;
  const ports: number[] = [];
  const c = useConvergence(f, () => ({ id: clientId, api, admin }));

  const startFetcher = async (port: number) => {
    const child = new FetcherProcess(f.childEnv({ FETCHER_PORT: String(port) }));
    children.push(child);
    await child.ready(port);
    return child;
  };
  const overlappingFullJobs = async () => {
    await c.pauseReviews();
    const ids = [];
    for (let i = 0; i < 2; i++)
      ids.push((await api.createFetchJob({ target: { case: "clientId", value: clientId }, mode: FetchMode.FULL })).jobId);
    while (Number((await api.getFetchJob({ jobId: ids[0]! })).job!.counters!.locations) < 6) await pause(20);
    await c.changeGoogle();
    f.emulator.controls.addFault({ endpoint: "reviews.list", kind: "latency", latencyMs: 100 });
    await admin.resumeStage({ stage: "reviews" });
    while (Number((await api.getFetchJob({ jobId: ids[0]! })).job!.counters!.pages) < 4) await pause(20);
    return ids;
  };
  const finishAndConverge = async (ids: string[]) => {
    for (const job of await Promise.all(ids.map((id) => waitForJob(api, id)))) assert.equal(job.status, JobStatus.SUCCEEDED, job.error);
    f.emulator.controls.clearFaults();
    await c.changeGoogle();
    assert.equal((await c.full()).status, JobStatus.SUCCEEDED);
    await c.converged();
  };

  before(async () => {
    f.emulator.controls.setQuota({ perMinute: 1_000_000 });
    const tenant = await f.createTenant("acme");
    clientId = await f.connectClient(tenant);
    ports.push(await freePort(), await freePort());
    await Promise.all(ports.map(startFetcher));
    api = fetcherClient(`http://127.0.0.1:${ports[0]}`, tenant.operator);
    admin = fetcherClient(`http://127.0.0.1:${ports[0]}`, TEST_ADMIN_KEY);
    assert.equal((await c.full()).status, JobStatus.SUCCEEDED);
  });

  it("SIGKILL of one of two fetchers during overlapping passes", async () => {
    const ids = await overlappingFullJobs();
    const victim = children.at(-1)!;
    victim.kill("SIGKILL");
    assert.equal(await victim.exited, null, "killed by the signal");
    await startFetcher(ports[1]!);
    await finishAndConverge(ids);
  });

  it("a NATS restart during overlapping passes", async () => {
    const ids = await overlappingFullJobs();
    await nats!.restart(1_000);
    await finishAndConverge(ids);
  });

  it("the whole system restarted (Google re-seeded identically, fetchers new), then an incremental and a full job: 0 events", async () => {
    const fresh = await startGoogleEmulator({
      port: 0,
      seed: { accounts: 1, locationsPerAccount: 6, reviewsPerLocation: [60, 180] },
      autoApprove: true,
    });
    try {
      // a restarted Google serves the same seeded reviews byte for byte: nothing to publish for them
      const seeded = await googleTruth(
        { ...f.config.google.endpoints, ...endpointsOf(fresh.url) },
        fresh.controls.issueTokens({ client_id: DEMO_CLIENT }).access_token,
      );
      const before = await c.truth();
      const untouched = [...seeded].filter(([name, review]) => before.has(name) && equals(ReviewSchema, before.get(name)!, review));
      assert.ok(untouched.length > 0.9 * seeded.size, "a re-seeded Google serves the seeded reviews unchanged");
    } finally {
      await fresh.close();
    }
    for (const child of children.splice(0)) {
      child.kill("SIGTERM");
      await child.exited;
    }
    await Promise.all(ports.map(startFetcher));
    const events = (await readReviewEvents(f.streams.nats)).length;
    for (const mode of [FetchMode.INCREMENTAL, FetchMode.FULL]) {
      const job = await waitForJob(api, (await api.createFetchJob({ target: { case: "clientId", value: clientId }, mode })).jobId);
      assert.equal(job.status, JobStatus.SUCCEEDED, job.error);
      assert.deepEqual([job.counters!.created, job.counters!.updated, job.counters!.deleted], [0n, 0n, 0n]);
    }
    assert.equal((await readReviewEvents(f.streams.nats)).length, events);
    await c.converged();
  });
});

/** The API endpoints of an emulator at `url` (OAuth stays where it was). */
function endpointsOf(url: string): Partial<GoogleEndpoints> {
  return {
    tokenInfoUrl: `${url}/tokeninfo`,
    accountManagementUrl: `${url}/`,
    businessInformationUrl: `${url}/`,
    myBusinessUrl: `${url}/`,
  };
}
