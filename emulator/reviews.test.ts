import assert from "node:assert/strict";
import type { OAuth2Client } from "google-auth-library";
import { SEED_ANCHOR_MS } from "./seed-generator.js";
import { api, connectedClient, rejection, useEmulator } from "../test/helpers/emulator.js";
import type { ReviewJson } from "./types.js";

interface ListReviewsResponse {
  reviews?: ReviewJson[];
  averageRating?: number;
  totalReviewCount?: number;
  nextPageToken?: string;
}

const STARS = { ONE: 1, TWO: 2, THREE: 3, FOUR: 4, FIVE: 5 } as const;
const Z_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3}|\.\d{6}|\.\d{9})?Z$/;

/** reviews.list through OAuth2Client.request, as the product calls v4, paging to the end. */
async function listAll(client: OAuth2Client, base: string, parent: string, params: Record<string, unknown> = {}) {
  const reviews: ReviewJson[] = [];
  const pages: ListReviewsResponse[] = [];
  let pageToken: string | undefined;
  do {
    const { data } = await client.request<ListReviewsResponse>({
      url: new URL(`v4/${parent}/reviews`, `${base}/`).toString(),
      params: { pageSize: 50, orderBy: "updateTime desc", ...params, ...(pageToken ? { pageToken } : {}) },
    });
    pages.push(data);
    reviews.push(...(data.reviews ?? []));
    pageToken = data.nextPageToken;
  } while (pageToken);
  return { reviews, pages };
}

describe("emulator My Business v4 reviews", () => {
  const t = useEmulator({ seed: { accounts: 2, locationsPerAccount: 3, reviewsPerLocation: [60, 130], seed: 7 } });
  let client: OAuth2Client;
  before(async () => {
    client = await connectedClient(t.emu);
  });
  const location = (a = 0, l = 0) => t.emu.controls.data().accounts[a]?.locations[l] as { parent: string; reviewCount: number };

  it("indents its JSON as Google does, and not when the request says prettyPrint=false", async () => {
    const loc = location();
    const token = client.credentials.access_token as string;
    const raw = async (query: string) => {
      const res = await fetch(`${t.emu.url}/v4/${loc.parent}/reviews?pageSize=50${query}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(res.status, 200);
      return res.text();
    };
    const pretty = await raw("");
    const compact = await raw("&prettyPrint=false");
    assert.match(pretty, /^{\n {2}"reviews": \[/);
    assert.ok(!compact.includes("\n"), "no line breaks");
    assert.deepEqual(JSON.parse(compact), JSON.parse(pretty));
    assert.ok(compact.length < pretty.length * 0.85, `${compact.length} bytes compact vs ${pretty.length} indented`);
    assert.match(await raw("&prettyPrint=true"), /^{\n/);
  });

  it("pages 50 at a time to the end, newest update first, with whole-location rating facts", async () => {
    const loc = location();
    const { reviews, pages } = await listAll(client, t.emu.url, loc.parent);
    assert.equal(reviews.length, loc.reviewCount);
    assert.equal(new Set(reviews.map((r) => r.name)).size, reviews.length);
    assert.ok(pages.slice(0, -1).every((p) => p.reviews?.length === 50));
    assert.equal(pages[pages.length - 1]?.nextPageToken, undefined);
    const times = reviews.map((r) => Date.parse(r.updateTime));
    assert.deepEqual(
      times,
      [...times].sort((a, b) => b - a),
    );

    const mean = reviews.reduce((s, r) => s + STARS[r.starRating], 0) / reviews.length;
    for (const page of pages) {
      assert.equal(page.totalReviewCount, loc.reviewCount);
      assert.equal(page.averageRating, Math.round(mean * 10) / 10);
    }
  });

  it("serves Google's review shapes: anonymous reviewers, rating-only reviews, replies, Z timestamps", async () => {
    const all: ReviewJson[] = [];
    for (const l of [0, 1, 2]) all.push(...(await listAll(client, t.emu.url, location(0, l).parent)).reviews);
    const anonymous = all.filter((r) => r.reviewer.isAnonymous);
    assert.ok(anonymous.length > 0);
    assert.ok(anonymous.every((r) => r.reviewer.displayName === undefined && r.reviewer.profilePhotoUrl === undefined));
    assert.ok(all.filter((r) => !r.reviewer.isAnonymous).every((r) => r.reviewer.displayName && r.reviewer.isAnonymous === undefined));
    assert.ok(
      all.some((r) => r.comment === undefined),
      "some rating-only reviews",
    );
    assert.ok(
      all.some((r) => r.reviewReply?.comment),
      "some replies",
    );
    assert.ok(new Set(all.map((r) => r.starRating)).size >= 4, "varied ratings");
    for (const r of all) {
      assert.match(r.createTime, Z_TIME);
      assert.match(r.updateTime, Z_TIME);
      assert.ok(Date.parse(r.updateTime) >= Date.parse(r.createTime));
      assert.ok(SEED_ANCHOR_MS - Date.parse(r.createTime) < 21 * 86_400_000, "seeded in the 20 days before the anchor");
      assert.equal(r.name, `${location(0, 0).parent.split("/locations/")[0]}/locations/${r.name.split("/")[3]}/reviews/${r.reviewId}`);
    }
  });

  it("orders by rating when asked, clamps pageSize to 50 and rejects other orders", async () => {
    const { reviews } = await listAll(client, t.emu.url, location(0, 1).parent, { orderBy: "rating desc" });
    const stars = reviews.map((r) => STARS[r.starRating]);
    assert.deepEqual(
      stars,
      [...stars].sort((a, b) => b - a),
    );
    const { pages } = await listAll(client, t.emu.url, location(0, 1).parent, { pageSize: 200 });
    assert.equal(pages[0]?.reviews?.length, 50);
    const err = await rejection(client.request({ url: `${t.emu.url}/v4/${location().parent}/reviews`, params: { orderBy: "updateTime" } }));
    assert.equal(err.status, 400);
    assert.equal(err.response.data.error.status, "INVALID_ARGUMENT");
  });

  it("answers 404 for an unknown location and {} for a location without reviews", async () => {
    const err = await rejection(client.request({ url: `${t.emu.url}/v4/${location().parent}9/reviews` }));
    assert.equal(err.status, 404);
    assert.equal(err.response.data.error.message, "Requested entity was not found.");

    const empty = await connectedClient(t.emu);
    const emu2 = t.emu;
    const loc = location(1, 2);
    for (const r of (await listAll(empty, emu2.url, loc.parent)).reviews) emu2.controls.deleteReview({ name: r.name });
    const { data } = await empty.request({ url: `${emu2.url}/v4/${loc.parent}/reviews` });
    assert.deepEqual(data, {});
  });

  it("shows edits, additions and deletions in the next list", async () => {
    const loc = location(1, 0);
    const before = (await listAll(client, t.emu.url, loc.parent)).reviews;
    const oldest = before[before.length - 1] as ReviewJson;
    const edited = t.emu.controls.editReview({ name: oldest.name, comment: "Changed my mind.", starRating: "TWO", reply: "Sorry!" });
    assert.ok(Date.parse(edited.updateTime) > Date.parse(before[0]?.updateTime as string));
    const added = t.emu.controls.addReview({ location: loc.parent, starRating: "FOUR", reviewer: { isAnonymous: true } });
    t.emu.controls.deleteReview({ name: before[1]?.name as string });

    const after = (await listAll(client, t.emu.url, loc.parent)).reviews;
    assert.equal(after.length, before.length);
    assert.deepEqual([after[0]?.name, after[1]?.name], [added.name, oldest.name]);
    assert.equal(after[1]?.comment, "Changed my mind.");
    assert.equal(after[1]?.starRating, "TWO");
    assert.equal(after[1]?.reviewReply?.comment, "Sorry!");
    assert.equal(after[0]?.comment, undefined);
    assert.ok(!after.some((r) => r.name === before[1]?.name));
    assert.equal(location(1, 0).reviewCount, after.length);
  });

  it("keeps paging consistent when a review is edited between two pages", async () => {
    const loc = location(0, 2);
    const url = `${t.emu.url}/v4/${loc.parent}/reviews`;
    const first = (await client.request<ListReviewsResponse>({ url })).data;
    const later = first.reviews?.[10] as ReviewJson;
    t.emu.controls.editReview({ name: later.name, comment: "edited mid-fetch" });
    const rest = await listAll(client, t.emu.url, loc.parent, { pageToken: first.nextPageToken });
    const names = [...(first.reviews ?? []), ...rest.reviews].map((r) => r.name);
    assert.equal(new Set(names).size, names.length, "no review served twice");
    assert.equal(names.length, loc.reviewCount);
  });

  it("batchGetReviews returns every review of many locations, one page of 50 at a time", async () => {
    const account = t.emu.controls.data().accounts[0];
    const locationNames = account?.locations.map((l) => l.parent) as string[];
    const total = account?.locations.reduce((s, l) => s + l.reviewCount, 0) as number;
    const url = `${t.emu.url}/v4/${account?.name}/locations:batchGetReviews`;
    const seen: { name: string; review: ReviewJson }[] = [];
    let pageToken: string | undefined;
    do {
      const { data } = await client.request<{ locationReviews?: { name: string; review: ReviewJson }[]; nextPageToken?: string }>({
        url,
        method: "POST",
        data: { locationNames, pageSize: 50, ...(pageToken ? { pageToken } : {}) },
      });
      assert.ok((data.locationReviews?.length ?? 0) <= 50);
      seen.push(...(data.locationReviews ?? []));
      pageToken = data.nextPageToken;
    } while (pageToken);
    assert.equal(seen.length, total);
    assert.ok(seen.every((lr) => lr.review.name.startsWith(`${lr.name}/reviews/`) && locationNames.includes(lr.name)));

    const { data } = await client.request<{ locationReviews?: { review: ReviewJson }[] }>({
      url,
      method: "POST",
      data: { locationNames, ignoreRatingOnlyReviews: true },
    });
    assert.ok(data.locationReviews?.every((lr) => lr.review.comment !== undefined));
  });

  it("batchGetReviews validates location names and the order", async () => {
    const [a0, a1] = t.emu.controls.data().accounts;
    const url = `${t.emu.url}/v4/${a0?.name}/locations:batchGetReviews`;
    const call = (data: unknown) => rejection(client.request({ url, method: "POST", data }));
    assert.equal((await call({ locationNames: [] })).status, 400);
    assert.equal((await call({ locationNames: [a1?.locations[0]?.parent] })).status, 400);
    assert.equal((await call({ locationNames: [`${a0?.name}/locations/1`] })).status, 404);
    assert.equal((await call({ locationNames: [a0?.locations[0]?.parent], orderBy: "updateTime" })).status, 400);
    const unknownField = await call({ locationNames: [a0?.locations[0]?.parent], foo: 1 });
    assert.match(unknownField.response.data.error.message, /Unknown name "foo"/);
    const encoded = await api(t.emu, `/v4/${a0?.name}/locations%3AbatchGetReviews`, client.credentials.access_token as string, {
      method: "POST",
      body: JSON.stringify({ locationNames: [a0?.locations[0]?.parent] }),
      headers: { "content-type": "application/json" },
    });
    assert.equal(encoded.status, 200);
  });
});

describe("emulator API authentication", () => {
  const t = useEmulator({ seed: "tiny" });
  const parent = () => t.emu.controls.data().accounts[0]?.locations[0]?.parent as string;

  it("answers 401 UNAUTHENTICATED without, with an unknown, or with an expired token", async () => {
    const none = await api(t.emu, `/v4/${parent()}/reviews`);
    assert.equal(none.status, 401);
    assert.equal(none.body.error.status, "UNAUTHENTICATED");
    assert.match(none.body.error.message, /^Request had invalid authentication credentials\. Expected OAuth 2 access token/);
    assert.equal((await api(t.emu, "/v1/accounts", "ya29.nonsense")).status, 401);

    const { access_token } = t.emu.controls.issueTokens({ client_id: "demo-client.apps.googleusercontent.com" });
    assert.equal((await api(t.emu, "/v1/accounts", access_token)).status, 200);
    t.emu.controls.expireTokens({ access_token });
    const expired = await api(t.emu, "/v1/accounts", access_token);
    assert.equal(expired.status, 401);
    assert.equal(expired.body.error.details[0].reason, "ACCESS_TOKEN_EXPIRED");
  });

  it("answers 403 for a token without the business.manage scope", async () => {
    const { access_token } = t.emu.controls.issueTokens({ client_id: "demo-client.apps.googleusercontent.com", scope: "email" });
    const res = await api(t.emu, `/v4/${parent()}/reviews`, access_token);
    assert.equal(res.status, 403);
    assert.equal(res.body.error.status, "PERMISSION_DENIED");
    assert.equal(res.body.error.message, "Request had insufficient authentication scopes.");
  });

  it("lets OAuth2Client refresh an expired token on its own before calling", async () => {
    // Earlier tests already hold a grant: only prompt=consent yields another refresh token.
    const client = await connectedClient(t.emu, { prompt: "consent" });
    t.emu.controls.expireTokens({ client_id: "demo-client.apps.googleusercontent.com" });
    client.setCredentials({ ...client.credentials, expiry_date: Date.now() - 1000 });
    const { data } = await client.request<ListReviewsResponse>({ url: `${t.emu.url}/v4/${parent()}/reviews` });
    assert.ok((data.reviews?.length ?? 0) > 0);
  });
});
