import assert from "node:assert/strict";
import { resolveSeed } from "./seed-spec.js";
import { startGoogleEmulator } from "./server.js";
import { api, DEMO } from "./test-support.js";
import { ControlError, type EmulatorOptions, type GoogleEmulator } from "./types.js";

const FIXED_NOW = Date.parse("2030-03-01T12:00:00Z");

async function withEmulator<T>(opts: EmulatorOptions, fn: (emu: GoogleEmulator) => Promise<T>): Promise<T> {
  const emu = await startGoogleEmulator({ port: 0, ...opts });
  try {
    return await fn(emu);
  } finally {
    await emu.close();
  }
}

/** Every review of the first location, as served. */
async function firstLocationReviews(emu: GoogleEmulator): Promise<unknown> {
  const token = emu.controls.issueTokens({ client_id: DEMO.id }).access_token;
  const parent = emu.controls.data().accounts[0]?.locations[0]?.parent as string;
  return (await api(emu, `/v4/${parent}/reviews`, token)).body;
}

describe("emulator seeds", () => {
  it("generates identical data for the same seed and clock, different data for another seed", async () => {
    const run = (seed: EmulatorOptions["seed"]) =>
      withEmulator({ seed, now: () => FIXED_NOW }, async (emu) => ({ data: emu.controls.data(), reviews: await firstLocationReviews(emu) }));
    const a = await run("demo");
    assert.deepEqual(await run("demo"), a);
    const other = await run({ accounts: 2, locationsPerAccount: 5, reviewsPerLocation: [0, 60], seed: 99 });
    assert.notDeepEqual(other.data, a.data);
  });

  it("sizes tiny, demo and large as documented", async () => {
    const shape = (name: "tiny" | "demo" | "large") =>
      withEmulator({ seed: name }, async (emu) => {
        const data = emu.controls.data();
        const counts = data.accounts.flatMap((acc) => acc.locations.map((l) => l.reviewCount));
        return { accounts: data.accounts.length, perAccount: data.accounts.map((acc) => acc.locations.length), counts, total: data.totalReviews };
      });
    const tiny = await shape("tiny");
    assert.deepEqual([tiny.accounts, tiny.perAccount], [1, [2]]);
    assert.ok(tiny.counts.every((c) => c >= 3 && c <= 8));
    const demo = await shape("demo");
    assert.deepEqual([demo.accounts, demo.perAccount], [2, [5, 5]]);
    assert.ok(demo.counts.every((c) => c >= 0 && c <= 60));
    const large = await shape("large");
    assert.deepEqual([large.accounts, large.perAccount], [3, [200, 200, 200]]);
    assert.ok(large.counts.every((c) => c >= 0 && c <= 500));
    assert.ok(large.total > 100_000, `large has ${large.total} reviews`);
  });

  it("serves a large location's reviews on demand, matching the summary", async () => {
    await withEmulator({ seed: "large" }, async (emu) => {
      const token = emu.controls.issueTokens({ client_id: DEMO.id }).access_token;
      const loc = emu.controls.data().accounts[2]?.locations[150];
      const first = await api(emu, `/v4/${loc?.parent}/reviews`, token);
      assert.equal(first.body.totalReviewCount ?? 0, loc?.reviewCount);
    });
  });

  it("places review times within the last 20 days of the clock", async () => {
    await withEmulator({ seed: "demo", now: () => FIXED_NOW }, async (emu) => {
      const body = (await firstLocationReviews(emu)) as { reviews: { createTime: string; updateTime: string }[] };
      for (const r of body.reviews) {
        const created = Date.parse(r.createTime);
        assert.ok(created < FIXED_NOW && created > FIXED_NOW - 20 * 86_400_000 - 60_000);
        assert.ok(Date.parse(r.updateTime) <= FIXED_NOW);
      }
    });
  });

  it("rejects nonsense seed specs", () => {
    assert.throws(() => resolveSeed({ accounts: 0, locationsPerAccount: 1, reviewsPerLocation: [0, 1] }), ControlError);
    assert.throws(() => resolveSeed({ accounts: 1, locationsPerAccount: 1, reviewsPerLocation: [5, 1] }), ControlError);
    assert.throws(() => resolveSeed("huge" as never), ControlError);
  });
});
