import assert from "node:assert/strict";
import type { OAuth2Client } from "google-auth-library";
import { accountsApi, api, connectedClient, locationsApi, rejection, useEmulator } from "../test/helpers/emulator.js";

const SEED = { accounts: 3, locationsPerAccount: 25, reviewsPerLocation: [0, 3] as [number, number] };

describe("emulator Account Management v1 accounts.list", () => {
  const t = useEmulator({ seed: SEED });
  let auth: OAuth2Client;
  before(async () => {
    auth = await connectedClient(t.emu);
  });

  it("lists the personal account first and pages to the end with opaque tokens", async () => {
    const am = accountsApi(t.emu, auth);
    const names: string[] = [];
    let pageToken: string | undefined;
    let pages = 0;
    do {
      const { data } = await am.accounts.list({ pageSize: 1, ...(pageToken ? { pageToken } : {}) });
      names.push(...(data.accounts ?? []).map((a) => a.name as string));
      pageToken = data.nextPageToken ?? undefined;
      pages++;
    } while (pageToken);
    const expected = t.emu.controls.data().accounts;
    assert.deepEqual(
      names,
      expected.map((a) => a.name),
    );
    assert.equal(pages, 3);

    const { data } = await am.accounts.list({});
    assert.equal(data.accounts?.[0]?.type, "PERSONAL");
    assert.equal(data.accounts?.[0]?.accountName, "Alex Morgan");
    assert.equal(data.nextPageToken, undefined, "no nextPageToken on the last page");
    assert.deepEqual(
      data.accounts?.slice(1).map((a) => a.type),
      ["LOCATION_GROUP", "ORGANIZATION"],
    );
    assert.ok(data.accounts?.[2]?.organizationInfo?.registeredDomain);
  });

  it("filters by type, the only supported filter", async () => {
    const am = accountsApi(t.emu, auth);
    const { data } = await am.accounts.list({ filter: "type=LOCATION_GROUP" });
    assert.deepEqual(
      data.accounts?.map((a) => a.type),
      ["LOCATION_GROUP"],
    );
    const err = await rejection(am.accounts.list({ filter: "accountName=x" }, { retry: false }));
    assert.equal(err.status, 400);
  });

  it("rejects undeclared query parameters but ignores Google's system parameters", async () => {
    const token = auth.credentials.access_token as string;
    const ok = await api(t.emu, "/v1/accounts?prettyPrint=false&fields=accounts&quotaUser=x", token);
    assert.equal(ok.status, 200);
    const bad = await api(t.emu, "/v1/accounts?foo=1", token);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.status, "INVALID_ARGUMENT");
    assert.match(bad.body.error.message, /Unknown name "foo"/);
  });
});

describe("emulator Business Information v1 accounts.locations.list", () => {
  const t = useEmulator({ seed: SEED });
  let auth: OAuth2Client;
  before(async () => {
    auth = await connectedClient(t.emu);
  });

  it("answers a missing readMask with Google's exact error body", async () => {
    const account = t.emu.controls.data().accounts[0]?.name as string;
    const err = await rejection(locationsApi(t.emu, auth).accounts.locations.list({ parent: account }, { retry: false }));
    assert.equal(err.status, 400);
    assert.deepEqual(err.response.data, {
      error: {
        code: 400,
        message: "Request contains an invalid argument.",
        errors: [{ message: "Request contains an invalid argument.", domain: "global", reason: "badRequest" }],
        status: "INVALID_ARGUMENT",
        details: [
          {
            "@type": "type.googleapis.com/google.rpc.BadRequest",
            fieldViolations: [{ field: "read_mask", description: "Field is required" }],
          },
        ],
      },
    });
    assert.equal(err.response.headers.get("content-type"), "application/json; charset=UTF-8");
  });

  it("returns only masked fields, 10 a page by default, to the end", async () => {
    const bi = locationsApi(t.emu, auth);
    const account = t.emu.controls.data().accounts[1];
    const seen: string[] = [];
    const sizes: number[] = [];
    let pageToken: string | undefined;
    do {
      const { data } = await bi.accounts.locations.list({
        parent: account?.name,
        readMask: "name,title,storefrontAddress.locality",
        ...(pageToken ? { pageToken } : {}),
      });
      for (const loc of data.locations ?? []) {
        assert.deepEqual(Object.keys(loc).sort(), ["name", "storefrontAddress", "title"]);
        assert.deepEqual(Object.keys(loc.storefrontAddress ?? {}), ["locality"]);
        seen.push(loc.name as string);
      }
      sizes.push(data.locations?.length ?? 0);
      pageToken = data.nextPageToken ?? undefined;
    } while (pageToken);
    assert.deepEqual(sizes, [10, 10, 5]);
    assert.deepEqual(
      seen,
      account?.locations.map((l) => l.name),
    );
  });

  it("clamps pageSize to 100 and lists every location under accounts/-", async () => {
    const { data } = await locationsApi(t.emu, auth).accounts.locations.list({ parent: "accounts/-", readMask: "name", pageSize: 500 });
    assert.equal(data.locations?.length, 75);
    assert.equal(data.nextPageToken, undefined);
  });

  it("orders by title and storeCode only", async () => {
    const bi = locationsApi(t.emu, auth);
    const parent = t.emu.controls.data().accounts[0]?.name as string;
    const { data } = await bi.accounts.locations.list({
      parent,
      readMask: "title,storeCode",
      orderBy: "title desc, storeCode",
      pageSize: 100,
    });
    const titles = (data.locations ?? []).map((l) => l.title as string);
    assert.deepEqual(
      titles,
      [...titles].sort((a, b) => b.localeCompare(a)),
    );
    const err = await rejection(bi.accounts.locations.list({ parent, readMask: "name", orderBy: "websiteUri" }, { retry: false }));
    assert.equal(err.status, 400);
    assert.equal(err.response.data.error.status, "INVALID_ARGUMENT");
  });

  it("rejects an invalid field mask, e.g. a path into a repeated field", async () => {
    const bi = locationsApi(t.emu, auth);
    const parent = t.emu.controls.data().accounts[0]?.name as string;
    for (const readMask of ["categories.additionalCategories.displayName", "nosuchfield", "name,,title"]) {
      const err = await rejection(bi.accounts.locations.list({ parent, readMask }, { retry: false }));
      assert.equal(err.status, 400, readMask);
      assert.equal(err.response.data.error.message, "Invalid field mask provided");
    }
    const { data } = await bi.accounts.locations.list({ parent, readMask: "categories,metadata.placeId", pageSize: 1 });
    assert.ok(data.locations?.[0]?.categories?.primaryCategory?.displayName);
    assert.deepEqual(Object.keys(data.locations?.[0]?.metadata ?? {}), ["placeId"]);
  });

  it("answers 404 NOT_FOUND for an unknown account and 400 for a page token of another query", async () => {
    const bi = locationsApi(t.emu, auth);
    const missing = await rejection(bi.accounts.locations.list({ parent: "accounts/1", readMask: "name" }, { retry: false }));
    assert.equal(missing.status, 404);
    assert.equal(missing.response.data.error.status, "NOT_FOUND");
    assert.equal(missing.response.data.error.message, "Requested entity was not found.");

    const parent = t.emu.controls.data().accounts[0]?.name as string;
    const { data } = await bi.accounts.locations.list({ parent, readMask: "name" });
    const err = await rejection(
      bi.accounts.locations.list({ parent, readMask: "title", pageToken: data.nextPageToken as string }, { retry: false }),
    );
    assert.equal(err.status, 400);
  });

  it("filters with simple field conditions and then reports totalSize", async () => {
    const parent = t.emu.controls.data().accounts[0];
    const title = parent?.locations[3]?.title as string;
    const { data } = await locationsApi(t.emu, auth).accounts.locations.list({
      parent: parent?.name,
      readMask: "title",
      filter: `title="${title}"`,
    });
    assert.ok((data.locations ?? []).every((l) => l.title === title));
    assert.equal(data.totalSize, data.locations?.length);
  });
});
