import assert from "node:assert/strict";
import { api, connectedClient, control, DEMO, useEmulator } from "../test/helpers/emulator.js";
import { ControlError } from "./types.js";

describe("emulator control API", () => {
  const t = useEmulator({ seed: "demo" });

  it("rejects bad JSON with 400, unknown paths with 404, wrong methods with 405", async () => {
    assert.equal((await control(t.emu, "POST", "/faults", "{not json")).status, 400);
    assert.equal((await control(t.emu, "POST", "/reviews/edit", "[1,2]")).status, 400);
    assert.equal((await control(t.emu, "GET", "/nothing-here")).status, 404);
    assert.equal((await control(t.emu, "GET", "")).status, 404);
    assert.equal((await control(t.emu, "PUT", "/stats")).status, 405);
    assert.equal((await control(t.emu, "GET", "/data")).status, 200, "still serving");
  });

  it("counts requests per endpoint and per project, grants and revocations, and resets", async () => {
    t.emu.controls.resetStats();
    const client = await connectedClient(t.emu);
    await client.refreshAccessToken();
    await api(t.emu, "/v1/accounts", client.credentials.access_token as string);
    await api(t.emu, "/v1/accounts");
    await client.getTokenInfo(client.credentials.access_token as string);
    await client.revokeToken(client.credentials.access_token as string);

    const { body: stats } = await control(t.emu, "GET", "/stats");
    assert.deepEqual(stats.requests, { authorize: 1, token: 2, "accounts.list": 2, tokeninfo: 1, revoke: 1 });
    assert.deepEqual(stats.byProject[DEMO.id], { authorize: 1, token: 2, "accounts.list": 1, tokeninfo: 1, revoke: 1 });
    assert.deepEqual(stats.grants[DEMO.id], { authorization_code: 1, refresh_token: 1 });
    assert.equal(stats.revocations, 1);
    assert.deepEqual(stats.maxPerWindow, { [DEMO.id]: { accountmanagement: 1 } });
    assert.deepEqual(stats.quotaRejections, {});
    assert.equal(stats.faultsInjected, 0);

    assert.equal((await control(t.emu, "POST", "/stats/reset")).status, 200);
    const { body: after } = await control(t.emu, "GET", "/stats");
    assert.deepEqual(after, {
      requests: {},
      byProject: {},
      quotaRejections: {},
      maxPerWindow: {},
      grants: {},
      revocations: 0,
      faultsInjected: 0,
    });
  });

  it("summarises the data so tests know what to expect", async () => {
    const { body } = await control(t.emu, "GET", "/data");
    assert.equal(body.accounts.length, 2);
    assert.equal(body.accounts[0].type, "PERSONAL");
    const counted = body.accounts.flatMap((a: any) => a.locations).reduce((s: number, l: any) => s + l.reviewCount, 0);
    assert.equal(body.totalReviews, counted);
    const loc = body.accounts[1].locations[0];
    assert.match(loc.name, /^locations\/\d+$/);
    assert.equal(loc.parent, `${body.accounts[1].name}/${loc.name}`);
  });

  it("edits, adds and deletes reviews over HTTP, with 404 for unknown names and 400 for bad fields", async () => {
    const parent = t.emu.controls.data().accounts[0]?.locations[1]?.parent as string;
    const count = () => t.emu.controls.data().accounts[0]?.locations[1]?.reviewCount;
    const before = count() as number;
    const added = await control(t.emu, "POST", "/reviews/add", {
      location: parent,
      comment: "New!",
      starRating: "THREE",
      reviewer: { displayName: "Test Person" },
    });
    assert.equal(added.status, 200);
    assert.equal(added.body.reviewer.displayName, "Test Person");
    assert.equal(count(), before + 1);
    const edited = await control(t.emu, "POST", "/reviews/edit", { name: added.body.name, comment: null, reply: "Thanks" });
    assert.equal(edited.body.comment, undefined);
    assert.equal(edited.body.reviewReply.comment, "Thanks");
    assert.equal((await control(t.emu, "POST", "/reviews/delete", { name: added.body.name })).status, 200);
    assert.equal(count(), before);

    assert.equal((await control(t.emu, "POST", "/reviews/delete", { name: added.body.name })).status, 404);
    assert.equal((await control(t.emu, "POST", "/reviews/add", { location: "accounts/1/locations/2" })).status, 404);
    assert.equal((await control(t.emu, "POST", "/reviews/add", { location: parent, starRating: "SIX" })).status, 400);
    assert.equal((await control(t.emu, "POST", "/reviews/edit", {})).status, 400);
  });

  it("brings a deleted review back under its old name when add names its reviewId, 409 while it lives", async () => {
    const parent = t.emu.controls.data().accounts[1]?.locations[0]?.parent as string;
    const token = t.emu.controls.issueTokens({ client_id: DEMO.id }).access_token;
    const victim = (await api(t.emu, `/v4/${parent}/reviews`, token)).body.reviews[3];
    const live = await control(t.emu, "POST", "/reviews/add", { location: parent, reviewId: victim.reviewId });
    assert.equal(live.status, 409);
    assert.match(live.body.error.message, /already exists/);

    t.emu.controls.deleteReview({ name: victim.name });
    assert.equal((await api(t.emu, `/v4/${victim.name}`, token)).status, 404);
    const back = await control(t.emu, "POST", "/reviews/add", {
      location: parent,
      reviewId: victim.reviewId,
      comment: "I'm back.",
      starRating: "TWO",
    });
    assert.equal(back.status, 200);
    assert.equal(back.body.name, victim.name);
    assert.equal(back.body.reviewId, victim.reviewId);
    assert.ok(Date.parse(back.body.updateTime) > Date.parse(victim.updateTime), "a fresh time, newest first");
    const served = await api(t.emu, `/v4/${victim.name}`, token);
    assert.deepEqual(served.body, back.body);
    assert.equal((await api(t.emu, `/v4/${parent}/reviews`, token)).body.reviews[0].name, victim.name);
    assert.equal((await control(t.emu, "POST", "/reviews/add", { location: parent, reviewId: victim.reviewId })).status, 409);

    const fresh = t.emu.controls.addReview({ location: parent, reviewId: "never-seen_before-1" });
    assert.equal(fresh.name, `${parent}/reviews/never-seen_before-1`);
    for (const reviewId of ["", "a/b", "a b", 7]) {
      assert.equal((await control(t.emu, "POST", "/reviews/add", { location: parent, reviewId })).status, 400, String(reviewId));
    }
    assert.equal(
      (await control(t.emu, "POST", "/reviews/add", { location: parent, reviewid: "x" })).status,
      400,
      "misspelt fields are refused",
    );
    const snake = await control(t.emu, "POST", "/reviews/add", { location: parent, review_id: "snake_case-1", star_rating: "TWO" });
    assert.equal(snake.body.name, `${parent}/reviews/snake_case-1`, "snake_case spellings are accepted too");
    assert.equal(snake.body.starRating, "TWO");
  });

  it("edits content without moving updateTime when keepUpdateTime is set", async () => {
    const parent = t.emu.controls.data().accounts[1]?.locations[1]?.parent as string;
    const token = t.emu.controls.issueTokens({ client_id: DEMO.id }).access_token;
    const listed = (await api(t.emu, `/v4/${parent}/reviews`, token)).body.reviews as {
      name: string;
      updateTime: string;
      createTime: string;
    }[];
    const target = listed[5] as (typeof listed)[number];
    const edited = await control(t.emu, "POST", "/reviews/edit", {
      name: target.name,
      comment: "Quietly changed.",
      starRating: "ONE",
      reply: "Noted.",
      keepUpdateTime: true,
    });
    assert.equal(edited.status, 200);
    assert.equal(edited.body.updateTime, target.updateTime);
    assert.equal(edited.body.createTime, target.createTime);
    assert.deepEqual([edited.body.comment, edited.body.starRating, edited.body.reviewReply.comment], ["Quietly changed.", "ONE", "Noted."]);

    const after = (await api(t.emu, `/v4/${parent}/reviews`, token)).body.reviews as { name: string; comment?: string }[];
    assert.deepEqual(
      after.map((r) => r.name),
      listed.map((r) => r.name),
      "the order by updateTime is unchanged",
    );
    assert.equal(after[5]?.comment, "Quietly changed.");
    assert.deepEqual((await api(t.emu, `/v4/${target.name}`, token)).body, edited.body);

    const moved = t.emu.controls.editReview({ name: target.name, comment: "Loudly changed.", keepUpdateTime: false });
    assert.ok(Date.parse(moved.updateTime) > Date.parse(target.updateTime));
    assert.equal((await control(t.emu, "POST", "/reviews/edit", { name: target.name, keepUpdateTime: "yes" })).status, 400);
    assert.equal((await control(t.emu, "POST", "/reviews/edit", { name: target.name, keep_updatetime: true })).status, 400);
    const quiet = await control(t.emu, "POST", "/reviews/edit", { name: target.name, comment: "snake", keep_update_time: true });
    assert.equal(quiet.body.updateTime, moved.updateTime, "keep_update_time works as keepUpdateTime");
  });

  it("issues, expires and revokes tokens, and changes config", async () => {
    const issued = await control(t.emu, "POST", "/tokens/issue", { client_id: DEMO.id });
    assert.equal(issued.body.expires_in, 3599);
    assert.equal((await api(t.emu, "/v1/accounts", issued.body.access_token)).status, 200);
    const expired = await control(t.emu, "POST", "/tokens/expire", { client_id: DEMO.id });
    assert.ok(expired.body.expired >= 1);
    assert.equal((await api(t.emu, "/v1/accounts", issued.body.access_token)).status, 401);
    assert.equal((await control(t.emu, "POST", "/tokens/issue", { client_id: "nobody" })).status, 404);
    assert.equal((await control(t.emu, "POST", "/tokens/expire", { access_token: "ya29.nope" })).status, 404);
    assert.ok((await control(t.emu, "POST", "/grants/revoke", {})).body.revoked >= 1);

    const config = await control(t.emu, "POST", "/config", { accessTokenTtlSeconds: 60 });
    assert.deepEqual(config.body, { accessTokenTtlSeconds: 60, autoApprove: true });
    assert.equal((await control(t.emu, "POST", "/tokens/issue", { client_id: DEMO.id })).body.expires_in, 60);
    assert.equal((await control(t.emu, "POST", "/config", { accessTokenTtlSeconds: -1 })).status, 400);
    await control(t.emu, "POST", "/config", { accessTokenTtlSeconds: 3599 });
  });

  it("sets quotas per project and API, validating input", async () => {
    assert.equal((await control(t.emu, "POST", "/quotas", { perMinute: -1 })).status, 400);
    assert.equal((await control(t.emu, "POST", "/quotas", { perMinute: 5, api: "drive" })).status, 400);
    assert.equal((await control(t.emu, "POST", "/quotas", { perMinute: 0, api: "mybusiness" })).status, 200);
    const token = t.emu.controls.issueTokens({ client_id: DEMO.id }).access_token;
    const parent = t.emu.controls.data().accounts[0]?.locations[0]?.parent as string;
    assert.equal((await api(t.emu, `/v4/${parent}/reviews`, token)).status, 429);
    assert.equal((await api(t.emu, "/v1/accounts", token)).status, 200);
    await control(t.emu, "POST", "/quotas", { perMinute: 300, api: "mybusiness" });
    assert.equal((await api(t.emu, `/v4/${parent}/reviews`, token)).status, 200);
  });

  it("throws ControlError in process for the same bad input", () => {
    assert.throws(() => t.emu.controls.setQuota({ perMinute: 1.5 }), ControlError);
    assert.throws(
      () => t.emu.controls.deleteReview({ name: "accounts/1/locations/2/reviews/3" }),
      (e: unknown) => e instanceof ControlError && e.status === 404,
    );
    assert.throws(() => t.emu.controls.addFault({ kind: "latency", latencyMs: -5 }), ControlError);
  });

  it("survives malformed URLs and unknown Google paths", async () => {
    const token = t.emu.controls.issueTokens({ client_id: DEMO.id }).access_token;
    assert.equal((await api(t.emu, "/v1/accounts/%E0%A4%A/locations?readMask=name", token)).status, 400);
    const unknown = await api(t.emu, "/v2/whatever", token);
    assert.equal(unknown.status, 404);
    assert.match(unknown.body, /was not found on this server/);
    assert.equal((await api(t.emu, "/v1/accounts", token, { method: "DELETE" })).status, 404);
  });
});
