import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { startGoogleEmulator, type GoogleEmulator } from "../../emulator/index.js";
import { createGoogleReviewSource, GoogleApiError, parseRfc3339, type ReviewSource } from "./index.js";

const DEMO = "demo-client.apps.googleusercontent.com";
const pick = (err: GoogleApiError) => [err.kind, err.httpStatus];

describe("lib/google ReviewSource (googleapis against the emulator)", () => {
  let emulator: GoogleEmulator;
  let source: ReviewSource;
  let token: string;

  before(async () => {
    emulator = await startGoogleEmulator({ port: 0, seed: { accounts: 2, locationsPerAccount: 3, reviewsPerLocation: [60, 60] } });
    const base = `${emulator.url}/`;
    source = createGoogleReviewSource({
      endpoints: {
        accountManagementUrl: base,
        businessInformationUrl: base,
        myBusinessUrl: base,
        tokenInfoUrl: `${emulator.url}/tokeninfo`,
      },
      timeoutMs: 2_000,
    });
    token = emulator.controls.issueTokens({ client_id: DEMO }).access_token;
  });
  after(() => emulator.close());
  afterEach(() => emulator.controls.clearFaults());

  it("lists accounts, their locations (as v4 review parents) and reviews page by page", async () => {
    const accounts = await source.listAccounts(token);
    assert.equal(accounts.items.length, 2);
    assert.match(accounts.items[0].name, /^accounts\/\d+$/);
    const locations = await source.listLocations(token, accounts.items[1].name, { pageSize: 2 });
    assert.equal(locations.items.length, 2);
    assert.ok(locations.nextPageToken);
    const rest = await source.listLocations(token, accounts.items[1].name, { pageToken: locations.nextPageToken });
    assert.equal(rest.items.length, 1);
    const location = locations.items[0];
    assert.equal(location.name, `${accounts.items[1].name}/locations/${location.locationId}`);

    const first = await source.listReviews(token, location.name);
    assert.equal(first.items.length, 50, "Google's page of 50");
    assert.equal(first.totalReviewCount, 60);
    const second = await source.listReviews(token, location.name, { pageToken: first.nextPageToken });
    assert.equal(second.items.length, 10);
    assert.equal(second.nextPageToken, undefined);
    const review = first.items[0];
    assert.equal(review.locationName, location.name);
    assert.ok(review.name.startsWith(`${location.name}/reviews/`));
    assert.ok(review.starRating >= 1 && review.starRating <= 5);
    assert.ok(review.updateTime && review.createTime);
  });

  it("gets one review by name as listReviews converts it, and undefined once Google answers 404", async () => {
    const accountName = (await source.listAccounts(token)).items[0].name;
    const location = (await source.listLocations(token, accountName)).items[1].name;
    const listed = (await source.listReviews(token, location)).items[7];
    const before = emulator.controls.stats().requests["reviews.get"] ?? 0;
    const got = await source.getReview(token, listed.name);
    assert.deepEqual(got, listed);
    assert.equal(got?.locationName, location);

    emulator.controls.deleteReview({ name: listed.name });
    assert.equal(await source.getReview(token, listed.name), undefined);
    assert.equal(await source.getReview(token, `${location}/reviews/AbFvOnever`), undefined);
    assert.equal((emulator.controls.stats().requests["reviews.get"] ?? 0) - before, 3, "one request each");
  });

  it("classifies every other getReview failure like listReviews: 403 permanent, 429/5xx transient, a bare 404 not a deletion", async () => {
    const accountName = (await source.listAccounts(token)).items[0].name;
    const location = (await source.listLocations(token, accountName)).items[2].name;
    const name = (await source.listReviews(token, location)).items[0].name;
    const failure = (call: Promise<unknown>) =>
      call.then(
        () => assert.fail("expected a failure"),
        (err: unknown) => {
          assert.ok(err instanceof GoogleApiError, String(err));
          return err;
        },
      );
    emulator.controls.addFault({ kind: "forbidden", endpoint: "reviews.get", locations: [location] });
    assert.deepEqual(pick(await failure(source.getReview(token, name))), ["permanent", 403]);
    emulator.controls.clearFaults();
    emulator.controls.addFault({ endpoint: "reviews.get", kind: "rate_limit", count: 1 });
    assert.deepEqual(pick(await failure(source.getReview(token, name))), ["transient", 429]);
    emulator.controls.addFault({ endpoint: "reviews.get", kind: "error", status: 503, count: 1 });
    assert.deepEqual(pick(await failure(source.getReview(token, name))), ["transient", 503]);
    assert.deepEqual(pick(await failure(source.getReview("ya29.not-a-token-at-all", name))), ["unauthenticated", 401]);

    // A base URL that is not Google's answers an HTML 404: that must never read as "deleted".
    const misaimed = createGoogleReviewSource({
      endpoints: {
        accountManagementUrl: "http://127.0.0.1:9/",
        businessInformationUrl: "http://127.0.0.1:9/",
        myBusinessUrl: `${emulator.url}/wrong-prefix/`,
        tokenInfoUrl: "http://127.0.0.1:9/tokeninfo",
      },
      timeoutMs: 2_000,
    });
    assert.deepEqual(pick(await failure(misaimed.getReview(token, name))), ["permanent", 404]);
    assert.deepEqual(pick(await failure(source.getReview(token, "locations/1"))), ["permanent", 0]);
  });

  it("names the project a raw token belongs to", async () => {
    const info = await source.tokenInfo(token);
    assert.equal(info.clientId, DEMO);
    assert.ok(info.scopes.includes("https://www.googleapis.com/auth/business.manage"));
  });

  it("refuses a token no Authorization header can carry as permanent, without a request (not as Google being away)", async () => {
    const before = emulator.controls.stats().requests.tokeninfo ?? 0;
    for (const junk of ["ya29.abc\r\nX-Injected: 1", "ya29.abc\u0000def", "ya29.😀😀😀", "ya29.ééééé", "ya29 with spaces"]) {
      for (const call of [source.tokenInfo(junk), source.listAccounts(junk)]) {
        const err = await call.then(
          () => assert.fail("expected a failure"),
          (e: unknown) => e,
        );
        assert.ok(err instanceof GoogleApiError);
        assert.deepEqual([err.kind, err.httpStatus, err.code], ["permanent", 0, "INVALID_ARGUMENT"], JSON.stringify(junk));
      }
    }
    assert.equal(emulator.controls.stats().requests.tokeninfo ?? 0, before);
  });

  it("classifies failures: 401 refresh, 403/404 permanent, 429/5xx transient, never retrying on its own", async () => {
    const accountName = (await source.listAccounts(token)).items[0].name;
    const location = (await source.listLocations(token, accountName)).items[0].name;
    const failure = async (call: Promise<unknown>) => {
      try {
        await call;
      } catch (err) {
        assert.ok(err instanceof GoogleApiError);
        assert.ok(!err.message.includes(token), "no token in the message");
        return err;
      }
      throw new Error("expected a failure");
    };
    const bad = await failure(source.listReviews("ya29.not-a-token-at-all", location));
    assert.deepEqual([bad.kind, bad.httpStatus, bad.code], ["unauthenticated", 401, "UNAUTHENTICATED"]);

    emulator.controls.addFault({ kind: "forbidden", locations: [location] });
    const forbidden = await failure(source.listReviews(token, location));
    assert.deepEqual([forbidden.kind, forbidden.httpStatus, forbidden.code], ["permanent", 403, "PERMISSION_DENIED"]);
    emulator.controls.clearFaults();
    const missing = await failure(source.listReviews(token, `${accountName}/locations/404404`));
    assert.deepEqual([missing.kind, missing.httpStatus], ["permanent", 404]);

    const before = emulator.controls.stats().requests["reviews.list"] ?? 0;
    emulator.controls.addFault({ endpoint: "reviews.list", kind: "rate_limit" });
    const limited = await failure(source.listReviews(token, location));
    assert.deepEqual([limited.kind, limited.httpStatus, limited.rateLimited], ["transient", 429, true]);
    emulator.controls.clearFaults();
    emulator.controls.addFault({ kind: "error", status: 503 });
    const unavailable = await failure(source.listAccounts(token));
    assert.deepEqual([unavailable.kind, unavailable.httpStatus], ["transient", 503]);
    assert.equal((emulator.controls.stats().requests["reviews.list"] ?? 0) - before, 1, "googleapis' own retries are off");
  });

  it("turns timeouts and refused connections into transient failures", async () => {
    const hanging = http.createServer(() => undefined);
    await new Promise<void>((resolve) => hanging.listen(0, "127.0.0.1", resolve));
    const port = (hanging.address() as AddressInfo).port;
    try {
      const slow = createGoogleReviewSource({
        endpoints: {
          accountManagementUrl: `http://127.0.0.1:${port}/`,
          businessInformationUrl: "http://127.0.0.1:9/",
          myBusinessUrl: "http://127.0.0.1:9/",
          tokenInfoUrl: "http://127.0.0.1:9/tokeninfo",
        },
        timeoutMs: 200,
      });
      const timedOut = await slow.listAccounts(token).then(
        () => undefined,
        (err: unknown) => err,
      );
      assert.ok(timedOut instanceof GoogleApiError && timedOut.kind === "transient", String(timedOut));
      const refused = await slow.listReviews(token, "accounts/1/locations/2").then(
        () => undefined,
        (err: unknown) => err,
      );
      assert.ok(refused instanceof GoogleApiError && refused.kind === "transient", String(refused));
    } finally {
      hanging.closeAllConnections();
      await new Promise((resolve) => hanging.close(resolve));
    }
  });

  it("reads RFC 3339 times to the nanosecond", () => {
    assert.deepEqual(
      [parseRfc3339("2014-10-02T15:01:23.045123456Z").seconds, parseRfc3339("2014-10-02T15:01:23.045123456Z").nanos],
      [1412262083n, 45123456],
    );
    assert.equal(parseRfc3339("2014-10-02T15:01:23Z").nanos, 0);
  });

  it("reads Google's UTC form and every other RFC 3339 form alike, to the nanosecond", () => {
    // the expected value from Date.parse of the text without its fraction, plus the fraction
    const expected = (text: string) => {
      const fraction = /\.(\d+)(?=Z|[+-]|$)/i.exec(text)?.[1] ?? "";
      const ms = Date.parse(text.replace(/\.\d+/, ""));
      return [BigInt(Math.floor(ms / 1000)), Number(fraction.padEnd(9, "0"))];
    };
    const texts: string[] = [
      "1970-01-01T00:00:00Z",
      "2024-02-29T23:59:59.999999999Z",
      "2000-01-01T00:00:00.1Z",
      "2014-10-02T15:01:23.045+02:00",
      "2014-10-02t15:01:23z",
      "2014-02-30T00:00:00Z",
    ];
    let seed = 1;
    const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 2_000; i++) {
      const iso = new Date(Math.floor(next() * 4_102_444_800_000)).toISOString().slice(0, 19);
      const digits = Math.floor(next() * 10);
      texts.push(
        `${iso}${
          digits
            ? "." +
              String(Math.floor(next() * 1e9))
                .padStart(9, "0")
                .slice(0, digits)
            : ""
        }Z`,
      );
    }
    for (const text of texts) {
      const ts = parseRfc3339(text);
      assert.deepEqual([ts.seconds, ts.nanos], expected(text), text);
    }
    for (const bad of ["2014-13-01T00:00:00Z", "2014-10-02T15:01:23.Z", "not a time"]) {
      assert.throws(() => parseRfc3339(bad), GoogleApiError, bad);
    }
  });
});
