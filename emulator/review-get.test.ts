import assert from "node:assert/strict";
import { startGoogleEmulator } from "./server.js";
import { api, connectedClient, DEMO, useEmulator } from "../test/helpers/emulator.js";
import type { ReviewJson } from "./types.js";

/** Google's 404 for reviews.get (reference §1.3: "NOT_FOUND if the review does not exist or has been deleted"). */
const NOT_FOUND = {
  code: 404,
  message: "Requested entity was not found.",
  errors: [{ message: "Requested entity was not found.", domain: "global", reason: "notFound" }],
  status: "NOT_FOUND",
};

describe("emulator My Business v4 reviews.get", () => {
  const t = useEmulator({ seed: { accounts: 1, locationsPerAccount: 3, reviewsPerLocation: [20, 30], seed: 11 } });
  let token: string;
  before(() => {
    token = t.emu.controls.issueTokens({ client_id: DEMO.id }).access_token;
  });
  afterEach(() => t.emu.controls.clearFaults());
  const location = (l: number) => t.emu.controls.data().accounts[0]?.locations[l] as { parent: string; name: string };
  const firstPage = async (l: number) => (await api(t.emu, `/v4/${location(l).parent}/reviews`, token)).body.reviews as ReviewJson[];

  it("answers a review exactly as reviews.list serves it, through OAuth2Client.request", async () => {
    const client = await connectedClient(t.emu);
    for (const listed of (await firstPage(0)).slice(0, 5)) {
      const { data, status } = await client.request<ReviewJson>({ url: `${t.emu.url}/v4/${listed.name}` });
      assert.equal(status, 200);
      assert.deepEqual(data, listed);
    }
  });

  it("answers 404 NOT_FOUND in Google's error format for an unknown or deleted review and an unknown location", async () => {
    const [victim] = await firstPage(1);
    assert.equal((await api(t.emu, `/v4/${victim?.name}`, token)).status, 200);
    t.emu.controls.deleteReview({ name: victim?.name as string });
    const deleted = await api(t.emu, `/v4/${victim?.name}`, token);
    assert.equal(deleted.status, 404);
    assert.deepEqual(deleted.body, { error: NOT_FOUND });
    assert.match(deleted.headers.get("content-type") ?? "", /^application\/json/);

    assert.deepEqual((await api(t.emu, `/v4/${location(1).parent}/reviews/AbFvOnope`, token)).body, { error: NOT_FOUND });
    assert.equal((await api(t.emu, `/v4/${location(1).parent}9/reviews/${victim?.reviewId}`, token)).status, 404);
  });

  it("counts in the project's mybusiness quota and in stats as reviews.get", async () => {
    const [review] = await firstPage(2);
    t.emu.controls.resetStats();
    t.emu.controls.resetQuotaUsage();
    assert.equal((await api(t.emu, `/v4/${review?.name}`, token)).status, 200);
    assert.equal((await api(t.emu, `/v4/${location(2).parent}/reviews/AbFvOnope`, token)).status, 404);
    const stats = t.emu.controls.stats();
    assert.equal(stats.requests["reviews.get"], 2);
    assert.equal(stats.byProject[DEMO.id]?.["reviews.get"], 2);
    assert.equal(stats.requests["reviews.list"], undefined);
    assert.equal(stats.maxPerWindow[DEMO.id]?.mybusiness, 2);

    t.emu.controls.setQuota({ perMinute: 2, project: DEMO.id, api: "mybusiness" });
    try {
      const limited = await api(t.emu, `/v4/${review?.name}`, token);
      assert.equal(limited.status, 429);
      assert.equal(limited.body.error.details[0].reason, "RATE_LIMIT_EXCEEDED");
      assert.equal(t.emu.controls.stats().quotaRejections[DEMO.id], 1);
    } finally {
      t.emu.controls.setQuota({ perMinute: 300, project: DEMO.id, api: "mybusiness" });
      t.emu.controls.resetQuotaUsage();
    }
  });

  it("takes faults aimed at reviews.get, and the location's 403, but not those aimed at reviews.list", async () => {
    const [review] = await firstPage(0);
    const get = () => api(t.emu, `/v4/${review?.name}`, token);
    t.emu.controls.addFault({ endpoint: "reviews.list", kind: "error", status: 500 });
    assert.equal((await get()).status, 200);
    t.emu.controls.clearFaults();

    t.emu.controls.addFault({ endpoint: "reviews.get", kind: "error", status: 503, count: 1 });
    assert.equal((await get()).status, 503);
    assert.equal((await get()).status, 200);
    t.emu.controls.addFault({ endpoint: "reviews.get", kind: "rate_limit", count: 1 });
    assert.equal((await get()).status, 429);

    t.emu.controls.addFault({ kind: "forbidden", locations: [location(0).name] });
    const forbidden = await get();
    assert.equal(forbidden.status, 403);
    assert.equal(forbidden.body.error.status, "PERMISSION_DENIED");
  });

  it("refuses a missing token and undeclared query parameters like every v4 method", async () => {
    const [review] = await firstPage(0);
    assert.equal((await api(t.emu, `/v4/${review?.name}`)).status, 401);
    const unknown = await api(t.emu, `/v4/${review?.name}?pageSize=5`, token);
    assert.equal(unknown.status, 400);
    assert.match(unknown.body.error.message, /Unknown name "pageSize"/);
    assert.equal((await api(t.emu, `/v4/${review?.name}?fields=name`, token)).status, 200, "system parameters pass");
  });

  it("answers quota-0 projects with 429 like reviews.list", async () => {
    const emu = await startGoogleEmulator({ port: 0, quotaPerMinute: 0 });
    try {
      const parent = emu.controls.data().accounts[0]?.locations[0]?.parent as string;
      const client = emu.controls.issueTokens({ client_id: DEMO.id }).access_token;
      const err = await api(emu, `/v4/${parent}/reviews/AbFvOanything`, client);
      assert.equal(err.status, 429);
      assert.equal(err.body.error.details[0].metadata.quota_limit_value, "0");
    } finally {
      await emu.close();
    }
  });
});
