import assert from "node:assert/strict";
import { createPublicKey, verify } from "node:crypto";
import { loadEmulatorEnv } from "./env.js";
import { DEFAULT_PUSH_SERVICE_ACCOUNT } from "./notification-delivery.js";
import { PUSH_SUBJECT } from "./push-signer.js";
import { startGoogleEmulator } from "./server.js";
import { api, control, DEMO, notificationsSettled, type ReceivedPush, startPushReceiver, useEmulator } from "../test/helpers/emulator.js";
import type { GoogleEmulator } from "./types.js";

const TOPIC = "projects/reviewflow-test/topics/reviews";

function tokenFor(emu: GoogleEmulator): string {
  return emu.controls.issueTokens({ client_id: DEMO.id }).access_token;
}

/** mask null sends no updateMask at all. */
function patch(emu: GoogleEmulator, account: string, body: unknown, mask: string | null = "pubsubTopic,notificationTypes") {
  const query = mask === null ? "" : `?updateMask=${encodeURIComponent(mask)}`;
  return api(emu, `/v1/${account}/notificationSetting${query}`, tokenFor(emu), {
    method: "PATCH",
    body: JSON.stringify(body),
    headers: { "content-type": "application/json" },
  });
}

async function firstReview(emu: GoogleEmulator, locationIndex = 0): Promise<{ name: string; parent: string; account: string }> {
  const account = emu.controls.data().accounts[0] as { name: string; locations: { parent: string }[] };
  const parent = (account.locations[locationIndex] as { parent: string }).parent;
  const listed = await api(emu, `/v4/${parent}/reviews`, tokenFor(emu));
  return { name: listed.body.reviews[0].name as string, parent, account: account.name };
}

/** Verifies the push's bearer JWT against the emulator's JWKS with node:crypto; answers header and claims. */
async function verifiedJwt(emu: GoogleEmulator, push: ReceivedPush): Promise<{ header: any; claims: any }> {
  const auth = push.headers.authorization as string;
  const m = /^Bearer (([\w-]+)\.([\w-]+))\.([\w-]+)$/.exec(auth);
  assert.ok(m, "a compact JWT in the Authorization header");
  const header = JSON.parse(Buffer.from(m[2] as string, "base64url").toString());
  const claims = JSON.parse(Buffer.from(m[3] as string, "base64url").toString());
  const certs = await fetch(`${emu.url}/oauth2/v3/certs`).then((r) => r.json() as Promise<{ keys: any[] }>);
  const jwk = certs.keys.find((k) => k.kid === header.kid);
  assert.ok(jwk, "the kid names a key of the JWKS");
  assert.deepEqual([jwk.kty, jwk.alg, jwk.use], ["RSA", "RS256", "sig"]);
  const key = createPublicKey({ key: jwk, format: "jwk" });
  assert.ok(verify("sha256", Buffer.from(m[1] as string), key, Buffer.from(m[4] as string, "base64url")), "signature verifies");
  return { header, claims };
}

const decoded = (push: ReceivedPush) => JSON.parse(Buffer.from(push.body.message.data, "base64").toString("utf8"));

describe("emulator Notifications API v1 notificationSetting", () => {
  const t = useEmulator({ seed: "tiny" });

  it("answers an unset setting with its name only, and PATCH with updateMask sets, echoes and keeps it", async () => {
    const account = t.emu.controls.data().accounts[0]?.name as string;
    const empty = await api(t.emu, `/v1/${account}/notificationSetting`, tokenFor(t.emu));
    assert.equal(empty.status, 200);
    assert.deepEqual(empty.body, { name: `${account}/notificationSetting` });

    const set = await patch(t.emu, account, {
      name: `${account}/notificationSetting`,
      pubsubTopic: TOPIC,
      notificationTypes: ["NEW_REVIEW", "UPDATED_REVIEW"],
    });
    assert.equal(set.status, 200);
    const expected = { name: `${account}/notificationSetting`, pubsubTopic: TOPIC, notificationTypes: ["NEW_REVIEW", "UPDATED_REVIEW"] };
    assert.deepEqual(set.body, expected);
    assert.deepEqual((await api(t.emu, `/v1/${account}/notificationSetting`, tokenFor(t.emu))).body, expected);

    // Only the masked field changes; snake_case mask paths work too.
    const typesOnly = await patch(
      t.emu,
      account,
      { pubsubTopic: "projects/other/topics/ignored", notificationTypes: ["NEW_REVIEW"] },
      "notification_types",
    );
    assert.deepEqual(typesOnly.body, { ...expected, notificationTypes: ["NEW_REVIEW"] });
    // A masked field missing from the body is cleared: that is how notifications are turned off.
    const off = await patch(t.emu, account, {}, "pubsubTopic");
    assert.deepEqual(off.body, { name: `${account}/notificationSetting`, notificationTypes: ["NEW_REVIEW"] });
    assert.deepEqual(t.emu.controls.notifications().settings, [off.body]);
  });

  it("requires updateMask and refuses bad masks, fields, types, names and accounts in Google's error shape", async () => {
    const account = t.emu.controls.data().accounts[0]?.name as string;
    const body = { pubsubTopic: TOPIC, notificationTypes: ["NEW_REVIEW"] };
    const noMask = await patch(t.emu, account, body, null);
    assert.equal(noMask.status, 400);
    assert.equal(noMask.body.error.status, "INVALID_ARGUMENT");
    assert.equal(noMask.body.error.details[0].fieldViolations[0].field, "update_mask");
    assert.equal((await patch(t.emu, account, body, "")).status, 400);
    assert.equal((await patch(t.emu, account, body, "name")).status, 400);
    assert.equal((await patch(t.emu, account, { ...body, color: "red" })).status, 400);
    assert.equal((await patch(t.emu, account, { ...body, notificationTypes: ["DELETED_REVIEW"] })).status, 400);
    assert.equal((await patch(t.emu, account, { ...body, notificationTypes: "NEW_REVIEW" })).status, 400);
    assert.equal((await patch(t.emu, account, { ...body, pubsubTopic: 7 })).status, 400);
    assert.equal((await patch(t.emu, account, { ...body, name: "accounts/1/notificationSetting" })).status, 400);
    assert.equal((await patch(t.emu, "accounts/999", body)).status, 404);
    assert.equal((await api(t.emu, "/v1/accounts/999/notificationSetting", tokenFor(t.emu))).status, 404);
    assert.equal((await api(t.emu, `/v1/${account}/notificationSetting?unknown=1`, tokenFor(t.emu))).status, 400);
    const unauth = await api(t.emu, `/v1/${account}/notificationSetting`);
    assert.equal(unauth.status, 401);
    assert.equal(unauth.body.error.details[0].metadata.service, "mybusinessnotifications.googleapis.com");
  });

  it("answers INVALID_PUBSUB_TOPIC for a malformed topic and PUBLISH_PERMISSIONS_MISSING_FOR_PUBSUB_TOPIC for a denied one", async () => {
    const account = t.emu.controls.data().accounts[0]?.name as string;
    for (const topic of [
      "reviews",
      "projects/p/topics/",
      "projects/reviewflow-test/topics/goog-reviews",
      "projects/reviewflow-test/subscriptions/x",
      "projects/reviewflow-test/topics/a b",
    ]) {
      const res = await patch(t.emu, account, { pubsubTopic: topic, notificationTypes: ["NEW_REVIEW"] });
      assert.equal(res.status, 400, topic);
      assert.equal(res.body.error.status, "INVALID_ARGUMENT");
      assert.equal(res.body.error.details[0].reason, "INVALID_PUBSUB_TOPIC");
    }
    const denied = "projects/reviewflow-test/topics/not-ours";
    assert.deepEqual(t.emu.controls.configureNotifications({ deny_publish_topics: [denied] }).deny_publish_topics, [denied]);
    const res = await patch(t.emu, account, { pubsubTopic: denied, notificationTypes: ["NEW_REVIEW"] });
    assert.equal(res.status, 400);
    assert.equal(res.body.error.status, "FAILED_PRECONDITION");
    assert.equal(res.body.error.details[0].reason, "PUBLISH_PERMISSIONS_MISSING_FOR_PUBSUB_TOPIC");
    assert.equal(res.body.error.details[0]["@type"], "type.googleapis.com/google.rpc.ErrorInfo");
    // The setting is unchanged by a refused PATCH.
    assert.notEqual(t.emu.controls.notifications().settings[0]?.pubsubTopic, denied);
    t.emu.controls.configureNotifications({ deny_publish_topics: [] });
  });

  it("counts calls in stats and in the project's notifications quota", async () => {
    const account = t.emu.controls.data().accounts[0]?.name as string;
    t.emu.controls.resetStats();
    t.emu.controls.resetQuotaUsage();
    await api(t.emu, `/v1/${account}/notificationSetting`, tokenFor(t.emu));
    await patch(t.emu, account, { pubsubTopic: TOPIC, notificationTypes: ["NEW_REVIEW"] });
    const stats = t.emu.controls.stats();
    assert.equal(stats.requests["notificationSetting.get"], 1);
    assert.equal(stats.byProject[DEMO.id]?.["notificationSetting.update"], 1);
    assert.equal(stats.maxPerWindow[DEMO.id]?.notifications, 2);

    t.emu.controls.setQuota({ perMinute: 2, project: DEMO.id, api: "notifications" });
    const over = await api(t.emu, `/v1/${account}/notificationSetting`, tokenFor(t.emu));
    assert.equal(over.status, 429);
    assert.equal(over.body.error.details[0].metadata.service, "mybusinessnotifications.googleapis.com");
    assert.equal(
      (await api(t.emu, `/v4/${(await firstReview(t.emu)).parent}/reviews`, tokenFor(t.emu))).status,
      200,
      "other APIs keep their own quota",
    );
    t.emu.controls.setQuota({ perMinute: 300, project: DEMO.id, api: "notifications" });
  });
});

describe("emulator review notifications by push", () => {
  const t = useEmulator({ seed: "tiny" });
  let receiver: Awaited<ReturnType<typeof startPushReceiver>>;
  let answers: number[] = [];
  before(async () => {
    receiver = await startPushReceiver((n) => answers[n - 1] ?? 204);
  });
  after(async () => {
    await receiver.close();
  });
  beforeEach(async () => {
    answers = [];
    receiver.received.length = 0;
    t.emu.controls.configureNotifications({
      push_endpoint: receiver.url,
      push_audience: null,
      push_service_account: null,
      drop_ratio: 0,
      duplicate_ratio: 0,
      delay_ms: 0,
      reset_counters: true,
    });
    const account = t.emu.controls.data().accounts[0]?.name as string;
    assert.equal((await patch(t.emu, account, { pubsubTopic: TOPIC, notificationTypes: ["NEW_REVIEW", "UPDATED_REVIEW"] })).status, 200);
  });

  it("pushes UPDATED_REVIEW for an edit with an RS256 JWT that verifies against /oauth2/v3/certs with Google's claims", async () => {
    const review = await firstReview(t.emu);
    const before = Math.floor(Date.now() / 1000);
    assert.equal((await control(t.emu, "POST", "/reviews/edit", { name: review.name, comment: "Changed." })).status, 200);
    await notificationsSettled(t.emu);

    assert.equal(receiver.received.length, 1);
    const push = receiver.received[0] as ReceivedPush;
    assert.deepEqual(decoded(push), { type: "UPDATED_REVIEW", location: review.parent, review: review.name });
    const { message, subscription } = push.body;
    assert.deepEqual(message.attributes, {});
    assert.match(message.messageId, /^\d{16}$/);
    assert.equal(message.message_id, message.messageId);
    assert.equal(message.publish_time, message.publishTime);
    assert.ok(!Number.isNaN(Date.parse(message.publishTime)));
    assert.equal(subscription, "projects/reviewflow-test/subscriptions/reviews-push");

    const { header, claims } = await verifiedJwt(t.emu, push);
    assert.equal(header.alg, "RS256");
    assert.equal(claims.iss, "https://accounts.google.com");
    assert.equal(claims.aud, receiver.url, "the audience defaults to the endpoint URL");
    assert.equal(claims.email, DEFAULT_PUSH_SERVICE_ACCOUNT);
    assert.equal(claims.email_verified, true);
    assert.equal(claims.sub, PUSH_SUBJECT);
    assert.equal(claims.azp, PUSH_SUBJECT);
    assert.ok(claims.iat >= before && claims.iat <= Math.floor(Date.now() / 1000));
    assert.equal(claims.exp, claims.iat + 3600);
    assert.deepEqual(t.emu.controls.notifications().counters, {
      published: 1,
      pushed: 1,
      push_failures: 0,
      push_abandoned: 0,
      pubsub_published: 0,
      pubsub_failures: 0,
      dropped: 0,
      duplicated: 0,
      delayed: 0,
      in_flight: 0,
    });
  });

  it("pushes NEW_REVIEW for an addition, uses the configured audience and account, and sends nothing for a deletion", async () => {
    const review = await firstReview(t.emu);
    const state = await control(t.emu, "POST", "/notifications", {
      pushAudience: "https://reviewflow.example/push",
      pushServiceAccount: "push@example.iam.gserviceaccount.com",
    });
    assert.equal(state.status, 200);
    assert.equal(state.body.push_audience, "https://reviewflow.example/push");
    const added = t.emu.controls.addReview({ location: review.parent, comment: "New here." });
    await notificationsSettled(t.emu);
    assert.deepEqual(decoded(receiver.received[0] as ReceivedPush), { type: "NEW_REVIEW", location: review.parent, review: added.name });
    const { claims } = await verifiedJwt(t.emu, receiver.received[0] as ReceivedPush);
    assert.equal(claims.aud, "https://reviewflow.example/push");
    assert.equal(claims.email, "push@example.iam.gserviceaccount.com");

    t.emu.controls.deleteReview({ name: added.name });
    // A deletion starts no delivery at all: nothing is in flight, nothing more was published.
    assert.equal(t.emu.controls.notifications().counters.in_flight, 0);
    assert.equal(t.emu.controls.notifications().counters.published, 1);
    assert.equal(receiver.received.length, 1);
  });

  it("sends only the types the account's setting names, and nothing once push or the setting is off", async () => {
    const review = await firstReview(t.emu);
    await patch(t.emu, review.account, { notificationTypes: ["NEW_REVIEW"] }, "notificationTypes");
    t.emu.controls.editReview({ name: review.name, comment: "Not notified." });
    assert.equal(t.emu.controls.notifications().counters.published, 0);
    await patch(t.emu, review.account, { notificationTypes: ["UPDATED_REVIEW"] }, "notificationTypes");
    t.emu.controls.configureNotifications({ push_endpoint: null });
    t.emu.controls.editReview({ name: review.name, comment: "Published, but nowhere to push." });
    await notificationsSettled(t.emu);
    assert.equal(receiver.received.length, 0);
    assert.equal(t.emu.controls.notifications().counters.pushed, 0);
  });

  it("retries a push the endpoint answers with 500, with the same messageId, until it is acknowledged", async () => {
    answers = [500];
    const review = await firstReview(t.emu);
    t.emu.controls.editReview({ name: review.name, comment: "Retried." });
    await notificationsSettled(t.emu);
    assert.equal(receiver.received.length, 2);
    const [first, second] = receiver.received as [ReceivedPush, ReceivedPush];
    assert.equal(second.body.message.messageId, first.body.message.messageId);
    assert.deepEqual(decoded(second), decoded(first));
    const { counters } = t.emu.controls.notifications();
    assert.deepEqual([counters.published, counters.push_failures, counters.pushed], [1, 1, 1]);
  });

  it("drops and duplicates the configured shares, deciding the same way for the same seed", async () => {
    const review = await firstReview(t.emu);
    t.emu.controls.configureNotifications({ drop_ratio: 1 });
    t.emu.controls.editReview({ name: review.name, comment: "Dropped." });
    assert.deepEqual(t.emu.controls.notifications().counters.dropped, 1);
    t.emu.controls.configureNotifications({ drop_ratio: 0, duplicate_ratio: 1 });
    t.emu.controls.editReview({ name: review.name, comment: "Twice." });
    await notificationsSettled(t.emu);
    assert.equal(receiver.received.length, 2);
    assert.equal(
      receiver.received[0]?.body.message.messageId,
      receiver.received[1]?.body.message.messageId,
      "a duplicate reuses the messageId",
    );

    // Same seed, same edits: the same notifications are dropped and duplicated.
    const decisions = async (emu: GoogleEmulator) => {
      emu.controls.configureNotifications({ drop_ratio: 0.3, duplicate_ratio: 0.3, push_endpoint: null });
      await patch(emu, review.account, { pubsubTopic: TOPIC, notificationTypes: ["UPDATED_REVIEW"] });
      const out: string[] = [];
      for (let i = 0; i < 20; i++) {
        const before = emu.controls.notifications().counters;
        emu.controls.editReview({ name: review.name, comment: `edit ${i}` });
        const after = emu.controls.notifications().counters;
        out.push(after.dropped > before.dropped ? "drop" : after.duplicated > before.duplicated ? "dup" : "one");
      }
      return out;
    };
    const a = await startGoogleEmulator({ port: 0, seed: "tiny" });
    const b = await startGoogleEmulator({ port: 0, seed: "tiny" });
    try {
      const [da, db] = [await decisions(a), await decisions(b)];
      assert.deepEqual(da, db);
      assert.ok(da.includes("drop") && da.includes("dup") && da.includes("one"), da.join(","));
      const c = a.controls.notifications().counters;
      assert.equal(c.published + c.dropped, 20);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it("delays notifications when asked and validates the controls", async () => {
    const review = await firstReview(t.emu);
    t.emu.controls.configureNotifications({ delay_ms: 50 });
    t.emu.controls.editReview({ name: review.name, comment: "Later." });
    assert.equal(t.emu.controls.notifications().counters.in_flight, 1);
    await notificationsSettled(t.emu);
    assert.equal(receiver.received.length, 1);
    assert.equal(t.emu.controls.notifications().counters.delayed, 1);

    for (const bad of [
      { drop_ratio: 2 },
      { duplicate_ratio: "x" },
      { delay_ms: -1 },
      { push_endpoint: "ftp://x" },
      { deny_publish_topics: "t" },
      { dropRate: 0.1 },
    ]) {
      const res = await control(t.emu, "POST", "/notifications", bad);
      assert.equal(res.status, 400, JSON.stringify(bad));
    }
    const state = await control(t.emu, "GET", "/notifications");
    assert.equal(state.body.delay_ms, 50, "a refused POST changes nothing");
    assert.equal(state.body.push_endpoint, receiver.url);
  });
});

describe("emulator notification environment", () => {
  it("reads the push and Pub/Sub variables and names a bad one", () => {
    const env = loadEmulatorEnv({
      EMULATOR_PUSH_ENDPOINT: "http://127.0.0.1:8080/google/pubsub/push",
      EMULATOR_PUSH_AUDIENCE: "https://aud.example",
      EMULATOR_PUSH_SERVICE_ACCOUNT: "sa@example.iam.gserviceaccount.com",
      PUBSUB_EMULATOR_HOST: "127.0.0.1:8085",
    });
    assert.equal(env.pushEndpoint, "http://127.0.0.1:8080/google/pubsub/push");
    assert.equal(env.pushAudience, "https://aud.example");
    assert.equal(env.pushServiceAccount, "sa@example.iam.gserviceaccount.com");
    assert.equal(env.pubsubEmulatorHost, "127.0.0.1:8085");
    assert.equal(loadEmulatorEnv({}).pushEndpoint, undefined);
    assert.throws(() => loadEmulatorEnv({ EMULATOR_PUSH_ENDPOINT: "not a url" }), /EMULATOR_PUSH_ENDPOINT/);
    assert.throws(() => loadEmulatorEnv({ PUBSUB_EMULATOR_HOST: "nohost" }), /PUBSUB_EMULATOR_HOST/);
  });
});
