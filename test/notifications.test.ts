// Google's review notifications end to end: the emulator pushes signed requests to the gateway's
// /google/pubsub/push, the fetcher turns each into a one-review pass, and REVIEWS gets the event;
// the push route's token checks; drops and duplicates healed by one reconciliation pass; the
// setting reconciler leaving someone else's topic alone; the pull receiver through Google's
// Pub/Sub emulator (skipped with a message where gcloud is absent).
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Client } from "@connectrpc/connect";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from "jose";
import { FetchMode, JobTrigger, type ReviewFetcher } from "../gen/reviewflow/fetcher/v1/fetcher_pb.js";
import { ReviewEventType } from "../gen/reviewflow/reviews/v1/events_pb.js";
import { silentLogger } from "../lib/log/index.js";
import { createMetricsRegistry } from "../lib/metrics/index.js";
import { createGatewayService, type GatewayServiceInstance } from "../services/gateway/server.js";
import { createGatewayMetrics } from "../services/gateway/metrics.js";
import { createFetcherMetrics } from "../services/fetcher/metrics.js";
import { createPullReceiver } from "../services/fetcher/notifications/pull-receiver.js";
import { DEMO_CLIENT, readReviewEvents, useFetcherFixture, waitForJob, type FetcherFixture } from "./helpers/fetcher-fixture.js";
import { assertConverged, googleTruth, replay } from "./helpers/convergence.js";
import { testConfig } from "./helpers/index.js";
import { pubsubEmulatorMissing, usePubsubEmulator } from "./helpers/pubsub-emulator.js";
import { pause, until } from "./helpers/waiting.js";

const TOPIC = "projects/reviewflow-test/topics/reviews";
const SERVICE_ACCOUNT = "pubsub-push@reviewflow-test.iam.gserviceaccount.com";
/** A gateway on this fixture's database and NATS, with push verified against `jwksUrl` for `audience`. */
async function startGateway(
  f: FetcherFixture,
  jwksUrl: string,
  audience: (port: number) => string,
): Promise<{ gateway: GatewayServiceInstance; base: string; audience: string }> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  const aud = audience(port);
  const config = testConfig(
    f.childEnv({ PUBSUB_PUSH_AUDIENCE: aud, PUBSUB_PUSH_SERVICE_ACCOUNT: SERVICE_ACCOUNT, GOOGLE_JWKS_URL: jwksUrl }),
  );
  const gateway = createGatewayService({
    config,
    dataSource: f.db.dataSource,
    nats: f.streams.nats,
    logger: silentLogger,
    authenticator: { authenticate: async () => undefined },
    metrics: createGatewayMetrics({ processMetrics: false }),
  });
  await gateway.start(port);
  return { gateway, base: `http://127.0.0.1:${port}`, audience: aud };
}

/** Connects a client, reads everything once, and points its accounts' settings at our topic. */
async function connectAndSync(f: FetcherFixture): Promise<{ clientId: string; api: Client<typeof ReviewFetcher> }> {
  const tenant = await f.createTenant(`t${Math.random().toString(36).slice(2, 8)}`);
  const clientId = await f.connectClient(tenant);
  const api = f.client();
  await waitForJob(api, (await api.createFetchJob({ target: { case: "clientId", value: clientId }, mode: FetchMode.FULL })).jobId);
  const outcomes = await f.fetcher!.settingReconciler.reconcileClient({ clientId, tenantId: tenant.id, googleProject: DEMO_CLIENT });
  assert.ok(outcomes.length > 0 && outcomes.every((o) => o.state === "ours"), JSON.stringify(outcomes));
  return { clientId, api };
}

const jobsOf = async (f: FetcherFixture) =>
  (await f.db.dataSource.query("SELECT trigger, created_by FROM fetch_jobs")) as { trigger: string; created_by: string }[];

describe("review notifications through push", function () {
  this.timeout(90_000);
  const f = useFetcherFixture({
    tokenService: true,
    env: { GOOGLE_PUBSUB_TOPIC: TOPIC },
    emulator: { seed: { accounts: 1, locationsPerAccount: 2, reviewsPerLocation: [4, 8] } },
  });
  let gateway: GatewayServiceInstance | undefined;
  let base = "";
  let clientId = "";
  let api: Client<typeof ReviewFetcher>;
  after(async () => {
    await gateway?.stop();
  });

  before(async function () {
    this.timeout(60_000);
    ({ clientId, api } = await connectAndSync(f));
    let audience: string;
    ({ gateway, base, audience } = await startGateway(
      f,
      `${f.emulator.url}/oauth2/v3/certs`,
      (port) => `http://127.0.0.1:${port}/google/pubsub/push`,
    ));
    f.emulator.controls.configureNotifications({
      push_endpoint: `${base}/google/pubsub/push`,
      push_audience: audience,
      push_service_account: SERVICE_ACCOUNT,
    });
  });

  it("turns an edit at Google into an UPDATED event within seconds, with nobody creating a job", async () => {
    const before = await jobsOf(f);
    const review = f.emulator.controls.data().accounts[0]!.locations[0]!;
    const name = (await readReviewEvents(f.streams.nats)).find((e) => e.review?.locationName === review.parent)!.review!.name;
    f.emulator.controls.editReview({ name, comment: "Edited: pushed within seconds" });
    const event = await until(
      "the UPDATED event",
      async () =>
        (await readReviewEvents(f.streams.nats)).find(
          (e) => e.review?.name === name && e.type === ReviewEventType.UPDATED && e.review.comment === "Edited: pushed within seconds",
        ),
      20_000,
    );
    const { job } = await api.getFetchJob({ jobId: event.jobId });
    assert.equal(job!.trigger, JobTrigger.NOTIFICATION);
    const after = await jobsOf(f);
    assert.deepEqual(after.filter((j) => j.trigger !== "notification").length, before.length, "only notification passes were started");
    const stats = f.emulator.controls.stats();
    assert.ok((stats.requests["reviews.get"] ?? 0) >= 1);
    const metrics = await f.fetcher!.metrics.metrics();
    assert.match(metrics, /reviewflow_notifications_total\{receiver="fetcher",outcome="received"[^}]*\} [1-9]/);
    assert.match(metrics, /reviewflow_notification_to_event_seconds_count\{[^}]*\} [1-9]/);
  });

  it("with 10 % dropped and 10 % duplicated, one reconciliation pass leaves a subscriber equal to Google, nothing twice", async () => {
    f.emulator.controls.configureNotifications({ drop_ratio: 0.1, duplicate_ratio: 0.1 });
    const names = [...new Set((await readReviewEvents(f.streams.nats)).filter((e) => e.clientId === clientId).map((e) => e.review!.name))];
    const edits = 30;
    for (let i = 0; i < edits; i++) f.emulator.controls.editReview({ name: names[i % names.length]!, comment: `Edit ${i}` });
    // every delivery settled (pushed, retried or dropped) and every handed-on notification handled
    await until("the emulator's deliveries to settle", async () => f.emulator.controls.notifications().counters.in_flight === 0, 30_000);
    await until("the notification passes to end", async () => {
      const [row] = (await f.db.dataSource.query(
        "SELECT count(*)::int AS n FROM fetch_jobs WHERE trigger = 'notification' AND status IN ('QUEUED','RUNNING')",
      )) as { n: number }[];
      return row!.n === 0;
    });
    const counters = f.emulator.controls.notifications().counters;
    assert.ok(counters.dropped > 0 && counters.duplicated > 0, JSON.stringify(counters));
    // a duplicate is dropped by JetStream (same message id) at the gateway, or later by the fetcher's table
    const duplicates = `${await gateway!.metrics.registry.metrics()}${await f.fetcher!.metrics.metrics()}`;
    assert.match(duplicates, /reviewflow_notifications_total\{receiver="(push|fetcher)",outcome="duplicate"[^}]*\} [1-9]/);

    await waitForJob(api, (await api.createFetchJob({ target: { case: "clientId", value: clientId }, mode: FetchMode.FULL })).jobId);
    const state = replay(await readReviewEvents(f.streams.nats), clientId);
    assertConverged(state, await googleTruth(f.config.google.endpoints, f.issueToken()), new Set());
    f.emulator.controls.configureNotifications({ drop_ratio: 0, duplicate_ratio: 0 });
  });
});

describe("the push route's token checks", function () {
  this.timeout(60_000);
  const f = useFetcherFixture({
    tokenService: true,
    env: { GOOGLE_PUBSUB_TOPIC: TOPIC },
    emulator: { seed: { accounts: 1, locationsPerAccount: 1, reviewsPerLocation: [2, 3] } },
  });
  let jwks: Server | undefined;
  let gateway: GatewayServiceInstance | undefined;
  let base = "";
  let audience = "";
  let key: CryptoKey;
  let otherKey: CryptoKey;
  const KID = "test-key-1";
  after(async () => {
    await gateway?.stop();
    await new Promise((resolve) => (jwks ? jwks.close(resolve) : resolve(undefined)));
  });

  before(async function () {
    this.timeout(30_000);
    const pair = await generateKeyPair("RS256", { extractable: true });
    key = pair.privateKey;
    otherKey = (await generateKeyPair("RS256")).privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: KID, alg: "RS256", use: "sig" };
    jwks = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => jwks!.listen(0, "127.0.0.1", resolve));
    ({ gateway, base, audience } = await startGateway(
      f,
      `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/certs`,
      () => "https://reviewflow.example/google/pubsub/push",
    ));
  });

  const claims = () => ({ email: SERVICE_ACCOUNT, email_verified: true, sub: "1137", azp: "1137" });
  const sign = (
    payload: Record<string, unknown>,
    opts: { key?: CryptoKey; aud?: string; iss?: string; exp?: number; iat?: number } = {},
  ) => {
    const jwt = new SignJWT(payload)
      .setProtectedHeader({ alg: "RS256", kid: KID })
      .setIssuer(opts.iss ?? "https://accounts.google.com")
      .setAudience(opts.aud ?? audience);
    jwt.setIssuedAt(opts.iat ?? Math.floor(Date.now() / 1000)).setExpirationTime(opts.exp ?? Math.floor(Date.now() / 1000) + 3600);
    return jwt.sign(opts.key ?? key);
  };
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
  const push = async (token: string, messageId: string) => {
    const location = f.emulator.controls.data().accounts[0]!.locations[0]!.parent;
    const data = Buffer.from(JSON.stringify({ type: "UPDATED_REVIEW", location, review: `${location}/reviews/r1` })).toString("base64");
    return fetch(`${base}/google/pubsub/push`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({
        message: { data, messageId, publishTime: new Date().toISOString() },
        subscription: "projects/p/subscriptions/s",
      }),
    });
  };

  it("answers 401 with a JSON error to a forged signature, alg none, HS256, a wrong audience, issuer or email, an unverified email and an expired token, and fetches nothing", async () => {
    const now = Math.floor(Date.now() / 1000);
    const [header, payload] = (await sign(claims())).split(".");
    const forged = {
      "forged signature": await sign(claims(), { key: otherKey }),
      "alg none": `${b64({ alg: "none", typ: "JWT" })}.${payload}.`,
      HS256: await new SignJWT(claims())
        .setProtectedHeader({ alg: "HS256", kid: KID })
        .setIssuer("https://accounts.google.com")
        .setAudience(audience)
        .setIssuedAt()
        .setExpirationTime("1h")
        .sign(new TextEncoder().encode("a-shared-secret-of-32-bytes-long!")),
      "wrong audience": await sign(claims(), { aud: "https://someone-else.example/push" }),
      "wrong issuer": await sign(claims(), { iss: "https://evil.example" }),
      "wrong email": await sign({ ...claims(), email: "someone@else.iam.gserviceaccount.com" }),
      "unverified email": await sign({ ...claims(), email_verified: false }),
      expired: await sign(claims(), { iat: now - 7200, exp: now - 3600 }),
      "tampered payload": `${header}.${b64({ ...claims(), aud: audience, iss: "https://accounts.google.com", exp: now + 3600, iat: now, email: "x@y.z" })}.${(await sign(claims())).split(".")[2]}`,
      "no token": "",
    };
    const getsBefore = f.emulator.controls.stats().requests["reviews.get"] ?? 0;
    for (const [what, token] of Object.entries(forged)) {
      const res = await push(token, `m-${what}`);
      assert.equal(res.status, 401, what);
      const body = (await res.json()) as { code: string; message: string };
      assert.equal(body.code, "unauthenticated", what);
    }
    await pause(500);
    assert.equal(f.emulator.controls.stats().requests["reviews.get"] ?? 0, getsBefore, "nothing fetched");
    const info = await f.streams.nats.jsm.consumers.info(
      f.streams.nats.names.fetch.stream,
      f.streams.nats.names.fetch.notifications.consumer,
    );
    assert.equal(info.delivered.stream_seq, 0, "nothing handed on to FETCH");

    // the same request with a good token is taken (204), and a malformed message is acknowledged
    assert.equal((await push(await sign(claims()), "m-good")).status, 204);
    const bad = await fetch(`${base}/google/pubsub/push`, {
      method: "POST",
      headers: { authorization: `Bearer ${await sign(claims())}`, "content-type": "application/json" },
      body: JSON.stringify({ message: { data: Buffer.from("not json").toString("base64"), messageId: "m-bad" } }),
    });
    assert.equal(bad.status, 204);
    assert.equal((await fetch(`${base}/google/pubsub/push`)).status, 405);
    // no connected client owns that location yet: acknowledged and counted, nothing fetched
    await until("the unknown notification counted", async () =>
      /reviewflow_notifications_total\{receiver="fetcher",outcome="unknown"[^}]*\} 1/.test(await f.fetcher!.metrics.metrics()),
    );
    assert.equal(f.emulator.controls.stats().requests["reviews.get"] ?? 0, getsBefore);
  });

  it("takes a notification of a review Google no longer has as a deletion only once reviews.get confirms it (404)", async () => {
    const { clientId } = await connectAndSync(f);
    const events = await readReviewEvents(f.streams.nats);
    const gone = events.find((e) => e.clientId === clientId)!.review!;
    f.emulator.controls.deleteReview({ name: gone.name });
    const data = Buffer.from(JSON.stringify({ type: "UPDATED_REVIEW", location_name: gone.locationName, review_name: gone.name })).toString(
      "base64",
    );
    const res = await fetch(`${base}/google/pubsub/push`, {
      method: "POST",
      headers: { authorization: `Bearer ${await sign(claims())}`, "content-type": "application/json" },
      body: JSON.stringify({ message: { data, message_id: "m-gone", publish_time: new Date().toISOString() } }),
    });
    assert.equal(res.status, 204);
    const deleted = await until("the DELETED event", async () =>
      (await readReviewEvents(f.streams.nats)).find((e) => e.review?.name === gone.name && e.type === ReviewEventType.DELETED),
    );
    assert.equal(deleted.version, events.filter((e) => e.review?.name === gone.name).length + 1);
    assert.match(await f.fetcher!.metrics.metrics(), /reviewflow_notifications_total\{receiver="fetcher",outcome="gone"[^}]*\} 1/);
  });
});

describe("the notification setting reconciler", function () {
  this.timeout(60_000);
  const f = useFetcherFixture({
    tokenService: true,
    env: { GOOGLE_PUBSUB_TOPIC: TOPIC },
    emulator: { seed: { accounts: 1, locationsPerAccount: 1, reviewsPerLocation: [1, 2] } },
  });

  it("sets our topic once, reports an account whose setting names another topic and leaves it untouched, and takes it over only when the policy says so", async () => {
    const { clientId, api } = await connectAndSync(f);
    const account = f.emulator.controls.data().accounts[0]!.name;
    const token = f.issueToken();
    const setting = async () =>
      (await (
        await fetch(`${f.emulator.url}/v1/${account}/notificationSetting`, { headers: { authorization: `Bearer ${token}` } })
      ).json()) as { pubsubTopic?: string };
    assert.equal((await setting()).pubsubTopic, TOPIC);

    // unchanged: read only, no patch
    const patchesBefore = f.emulator.controls.stats().requests["notificationSetting.update"] ?? 0;
    await f.fetcher!.settingReconciler.reconcileClient({ clientId, tenantId: null, googleProject: DEMO_CLIENT });
    assert.equal(f.emulator.controls.stats().requests["notificationSetting.update"] ?? 0, patchesBefore);

    // another tool takes the account's one topic
    const OTHER = "projects/another-tool/topics/their-reviews";
    const res = await fetch(`${f.emulator.url}/v1/${account}/notificationSetting?updateMask=pubsubTopic,notificationTypes`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ name: `${account}/notificationSetting`, pubsubTopic: OTHER, notificationTypes: ["NEW_REVIEW"] }),
    });
    assert.equal(res.status, 200, await res.text());
    const [outcome] = await f.fetcher!.settingReconciler.reconcileClient({ clientId, tenantId: null, googleProject: DEMO_CLIENT });
    assert.equal(outcome!.state, "foreign");
    assert.equal((await setting()).pubsubTopic, OTHER, "left untouched");
    const { policy } = await api.getSyncPolicy({ clientId });
    assert.deepEqual(
      policy!.notificationAccounts.map((a) => [a.accountName, a.state, a.pubsubTopic]),
      [[account, "foreign", OTHER]],
    );
    assert.match(await f.fetcher!.metrics.metrics(), /reviewflow_notification_settings_total\{outcome="foreign"[^}]*\} 1/);

    await api.updateSyncPolicy({ clientId, takeOverNotifications: true });
    const [taken] = await f.fetcher!.settingReconciler.reconcileClient({ clientId, tenantId: null, googleProject: DEMO_CLIENT });
    assert.equal(taken!.state, "taken_over");
    assert.equal((await setting()).pubsubTopic, TOPIC);
    assert.equal((await api.getSyncPolicy({ clientId })).policy!.takeOverNotifications, true);
  });
});

describe("review notifications through pull (Google's Pub/Sub emulator)", function () {
  this.timeout(120_000);
  if (pubsubEmulatorMissing()) {
    it(`skipped: ${pubsubEmulatorMissing()}`, function () {
      this.skip();
    });
    return;
  }
  const ps = usePubsubEmulator();
  const f = useFetcherFixture({
    tokenService: true,
    // read when the fixture starts, after the Pub/Sub emulator's own `before`
    emulator: {
      seed: { accounts: 1, locationsPerAccount: 1, reviewsPerLocation: [3, 4] },
      get pubsubEmulatorHost() {
        return ps.emu?.host;
      },
    },
  });
  let receiver: ReturnType<typeof createPullReceiver> | undefined;
  after(async () => {
    await receiver?.stop();
  });

  it("turns an edit at Google into an UPDATED event through a pull subscription", async () => {
    const pubsub = ps.emu.client();
    const topicName = `projects/${ps.emu.projectId}/topics/reviews`;
    const [topic] = await pubsub.createTopic("reviews");
    await topic.createSubscription("reviewflow-pull");
    const tenant = await f.createTenant("pull");
    const clientId = await f.connectClient(tenant);
    const api = f.client();
    await waitForJob(api, (await api.createFetchJob({ target: { case: "clientId", value: clientId }, mode: FetchMode.FULL })).jobId);
    const account = f.emulator.controls.data().accounts[0]!.name;
    const set = await fetch(`${f.emulator.url}/v1/${account}/notificationSetting?updateMask=pubsubTopic,notificationTypes`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${f.issueToken()}`, "content-type": "application/json" },
      body: JSON.stringify({
        name: `${account}/notificationSetting`,
        pubsubTopic: topicName,
        notificationTypes: ["NEW_REVIEW", "UPDATED_REVIEW"],
      }),
    });
    assert.equal(set.status, 200, await set.text());
    receiver = createPullReceiver({
      notifications: {
        topic: topicName,
        subscription: `projects/${ps.emu.projectId}/subscriptions/reviewflow-pull`,
        emulatorHost: ps.emu.host,
        pushAudience: undefined,
        pushServiceAccount: undefined,
        jwksUrl: "http://127.0.0.1:9/",
      },
      nats: f.streams.nats,
      logger: silentLogger,
      metrics: createFetcherMetrics(createMetricsRegistry("pull", { processMetrics: false })),
    });
    await receiver.start();

    const name = (await readReviewEvents(f.streams.nats)).find((e) => e.clientId === clientId)!.review!.name;
    f.emulator.controls.editReview({ name, comment: "Edited: pulled" });
    const event = await until(
      "the UPDATED event",
      async () =>
        (await readReviewEvents(f.streams.nats)).find(
          (e) => e.review?.name === name && e.type === ReviewEventType.UPDATED && e.review.comment === "Edited: pulled",
        ),
      30_000,
    );
    assert.equal((await api.getFetchJob({ jobId: event.jobId })).job!.trigger, JobTrigger.NOTIFICATION);
  });
});
