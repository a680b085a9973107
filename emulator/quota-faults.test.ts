import assert from "node:assert/strict";
import { startGoogleEmulator } from "./server.js";
import { accountsApi, api, connectedClient, control, DEMO, rejection, useEmulator } from "../test/helpers/emulator.js";
import type { GoogleEmulator } from "./types.js";

const OTHER = { id: "123456789012-other.apps.googleusercontent.com", secret: "other-secret" };

function tokenFor(emu: GoogleEmulator, clientId = DEMO.id): string {
  return emu.controls.issueTokens({ client_id: clientId }).access_token;
}

describe("emulator quotas", () => {
  const t = useEmulator({ clients: [DEMO, OTHER] });

  it("answers 429 RESOURCE_EXHAUSTED with RATE_LIMIT_EXCEEDED once a project's per-API quota is used up", async () => {
    const { status } = await control(t.emu, "POST", "/quotas", { perMinute: 3, project: DEMO.id, api: "accountmanagement" });
    assert.equal(status, 200);
    const token = tokenFor(t.emu);
    for (let i = 0; i < 3; i++) assert.equal((await api(t.emu, "/v1/accounts", token)).status, 200);
    const res = await api(t.emu, "/v1/accounts", token);
    assert.equal(res.status, 429);
    assert.equal(res.headers.get("retry-after"), null);
    assert.equal(res.body.error.status, "RESOURCE_EXHAUSTED");
    const info = res.body.error.details[0];
    assert.equal(info.reason, "RATE_LIMIT_EXCEEDED");
    assert.equal(info.metadata.quota_limit_value, "3");
    assert.equal(info.metadata.service, "mybusinessaccountmanagement.googleapis.com");
    assert.match(res.body.error.message, /^Quota exceeded for quota metric/);

    // The same project still has its other APIs, and other projects are untouched.
    const parent = t.emu.controls.data().accounts[0]?.name as string;
    assert.equal((await api(t.emu, `/v1/${parent}/locations?readMask=name`, token)).status, 200);
    assert.equal((await api(t.emu, "/v1/accounts", tokenFor(t.emu, OTHER.id))).status, 200);

    const stats = t.emu.controls.stats();
    assert.equal(stats.quotaRejections[DEMO.id], 1);
    assert.equal(stats.maxPerWindow[DEMO.id]?.accountmanagement, 4);
    assert.equal(stats.maxPerWindow[DEMO.id]?.businessinformation, 1);
    assert.equal(stats.byProject[DEMO.id]?.["accounts.list"], 4);
  });

  it("surfaces the 429 through the typed client when its retries are off", async () => {
    const client = await connectedClient(t.emu, { prompt: "consent" });
    const err = await rejection(accountsApi(t.emu, client).accounts.list({}, { retry: false }));
    assert.equal(err.status, 429);
    assert.equal(err.response.data.error.details[0].reason, "RATE_LIMIT_EXCEEDED");
  });

  it("admits requests again once they leave the sliding 60-second window", async () => {
    let now = Date.parse("2030-01-01T00:00:00Z");
    const emu = await startGoogleEmulator({ port: 0, quotaPerMinute: 2, now: () => now });
    try {
      const token = tokenFor(emu);
      assert.equal((await api(emu, "/v1/accounts", token)).status, 200);
      assert.equal((await api(emu, "/v1/accounts", token)).status, 200);
      assert.equal((await api(emu, "/v1/accounts", token)).status, 429);
      now += 30_000;
      assert.equal((await api(emu, "/v1/accounts", token)).status, 429);
      now += 30_001;
      assert.equal((await api(emu, "/v1/accounts", token)).status, 200);
      assert.equal(emu.controls.stats().maxPerWindow[DEMO.id]?.accountmanagement, 4);
    } finally {
      await emu.close();
    }
  });

  it("quota-0 mode answers every API call with 429 and quota_limit_value 0", async () => {
    const emu = await startGoogleEmulator({ port: 0, quotaPerMinute: 0 });
    try {
      const token = tokenFor(emu);
      const parent = emu.controls.data().accounts[0]?.locations[0]?.parent as string;
      for (const path of ["/v1/accounts", `/v4/${parent}/reviews`]) {
        const res = await api(emu, path, token);
        assert.equal(res.status, 429);
        assert.equal(res.body.error.details[0].metadata.quota_limit_value, "0");
      }
      assert.equal(emu.controls.stats().quotaRejections[DEMO.id], 2);
    } finally {
      await emu.close();
    }
  });
});

describe("emulator fault injection", () => {
  const t = useEmulator({ seed: "demo" });
  let token: string;
  let parent: string;
  before(() => {
    token = tokenFor(t.emu);
    parent = t.emu.controls.data().accounts[0]?.locations[0]?.parent as string;
  });
  afterEach(() => t.emu.controls.clearFaults());

  it("injects transient 500 INTERNAL and 503 UNAVAILABLE for a given count", async () => {
    t.emu.controls.addFault({ endpoint: "reviews.list", kind: "error", status: 500, count: 1 });
    const first = await api(t.emu, `/v4/${parent}/reviews`, token);
    assert.equal(first.status, 500);
    assert.deepEqual(first.body, { error: { code: 500, message: "Internal error encountered.", status: "INTERNAL" } });
    assert.equal((await api(t.emu, `/v4/${parent}/reviews`, token)).status, 200);

    t.emu.controls.addFault({ kind: "error", status: 503, count: 1 });
    const unavailable = await api(t.emu, "/v1/accounts", token);
    assert.equal(unavailable.status, 503);
    assert.equal(unavailable.body.error.status, "UNAVAILABLE");
    assert.equal(unavailable.body.error.message, "The service is currently unavailable.");
  });

  it("lets the typed client's default retry ride over a transient 503", async () => {
    const client = await connectedClient(t.emu, { prompt: "consent" });
    t.emu.controls.resetStats();
    t.emu.controls.addFault({ endpoint: "accounts.list", kind: "error", status: 503, count: 1 });
    const { data } = await accountsApi(t.emu, client).accounts.list({});
    assert.ok(data.accounts?.length);
    assert.equal(t.emu.controls.stats().requests["accounts.list"], 2);
    assert.equal(t.emu.controls.stats().faultsInjected, 1);
  });

  it("injects a 429 and added latency", async () => {
    const { body } = await control(t.emu, "POST", "/faults", { endpoint: "locations.list", kind: "rate_limit", count: 1 });
    assert.match(body.id, /^fault-/);
    const limited = await api(t.emu, `/v1/${parent.split("/locations/")[0]}/locations?readMask=name`, token);
    assert.equal(limited.status, 429);
    assert.equal(limited.body.error.details[0].reason, "RATE_LIMIT_EXCEEDED");

    const before = t.emu.controls.stats().faultsInjected;
    t.emu.controls.addFault({ endpoint: "reviews.list", kind: "latency", latencyMs: 20 });
    assert.equal((await api(t.emu, `/v4/${parent}/reviews`, token)).status, 200);
    assert.equal(t.emu.controls.stats().faultsInjected, before + 1);
  });

  it("makes chosen locations permanently 403 PERMISSION_DENIED, for list and batch", async () => {
    const account = t.emu.controls.data().accounts[0];
    const [blocked, open] = account?.locations ?? [];
    t.emu.controls.addFault({ kind: "forbidden", locations: [blocked?.name as string] });
    for (let i = 0; i < 2; i++) {
      const res = await api(t.emu, `/v4/${blocked?.parent}/reviews`, token);
      assert.equal(res.status, 403);
      assert.deepEqual(res.body.error, { code: 403, message: "The caller does not have permission", status: "PERMISSION_DENIED" });
    }
    assert.equal((await api(t.emu, `/v4/${open?.parent}/reviews`, token)).status, 200);
    const batch = (names: string[]) =>
      api(t.emu, `/v4/${account?.name}/locations:batchGetReviews`, token, {
        method: "POST",
        body: JSON.stringify({ locationNames: names }),
      });
    assert.equal((await batch([open?.parent as string, blocked?.parent as string])).status, 403);
    assert.equal((await batch([open?.parent as string])).status, 200);
  });

  it("draws fault rates from the seeded PRNG, so the same seed injects the same faults", async () => {
    const pattern = async () => {
      const emu = await startGoogleEmulator({ port: 0, seed: "tiny" });
      try {
        emu.controls.addFault({ endpoint: "accounts.list", kind: "error", rate: 0.5 });
        const t0 = tokenFor(emu);
        const out: number[] = [];
        for (let i = 0; i < 16; i++) out.push((await api(emu, "/v1/accounts", t0)).status);
        return out;
      } finally {
        await emu.close();
      }
    };
    const a = await pattern();
    assert.deepEqual(await pattern(), a);
    assert.ok(a.includes(200) && a.includes(503), a.join(","));
  });

  it("lists, deletes by id and clears faults, and rejects invalid ones", async () => {
    const { id } = t.emu.controls.addFault({ kind: "error" });
    assert.equal((await api(t.emu, "/v1/accounts", token)).status, 503);
    assert.equal((await control(t.emu, "GET", "/faults")).body.faults[0].id, id);
    assert.equal((await control(t.emu, "DELETE", `/faults/${id}`)).status, 200);
    assert.equal((await control(t.emu, "DELETE", `/faults/${id}`)).status, 404);
    assert.equal((await api(t.emu, "/v1/accounts", token)).status, 200);
    t.emu.controls.addFault({ kind: "error" });
    assert.equal((await control(t.emu, "DELETE", "/faults")).status, 200);
    assert.equal((await api(t.emu, "/v1/accounts", token)).status, 200);

    for (const bad of [
      { kind: "explode" },
      { kind: "error", status: 502 },
      { kind: "error", rate: 2 },
      { kind: "forbidden" },
      { kind: "latency" },
      { kind: "error", endpoint: "nope" },
    ]) {
      assert.equal((await control(t.emu, "POST", "/faults", bad)).status, 400, JSON.stringify(bad));
    }
  });
});
