import assert from "node:assert/strict";
import { REVIEW_AGE_DAYS, SEED_ANCHOR_MS } from "./seed-generator.js";
import { resolveSeed } from "./seed-spec.js";
import { startGoogleEmulator } from "./server.js";
import { api, DEMO } from "../test/helpers/emulator.js";
import { ControlError, type EmulatorOptions, type GoogleEmulator } from "./types.js";

const DAY_MS = 86_400_000;

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

/** The raw bytes of every location's first review page, keyed by location. */
async function servedBytes(emu: GoogleEmulator): Promise<Record<string, string>> {
  const token = emu.controls.issueTokens({ client_id: DEMO.id }).access_token;
  const out: Record<string, string> = {};
  for (const loc of emu.controls.data().accounts.flatMap((a) => a.locations)) {
    const res = await fetch(`${emu.url}/v4/${loc.parent}/reviews?pageSize=50`, { headers: { authorization: `Bearer ${token}` } });
    out[loc.parent] = await res.text();
  }
  return out;
}

describe("emulator seeds", () => {
  it("serves byte-identical reviews for the same seed whatever the clock at start, different data for another seed", async () => {
    const run = (seed: EmulatorOptions["seed"], now: number) =>
      withEmulator({ seed, now: () => now }, async (emu) => ({ data: emu.controls.data(), served: await servedBytes(emu) }));
    const a = await run("demo", Date.parse("2026-02-01T00:00:00Z"));
    const b = await run("demo", Date.parse("2031-07-15T09:30:00Z"));
    assert.deepEqual(b, a);
    assert.ok(
      Object.values(a.served).some((text) => text.includes('"reviews"')),
      "some location has reviews",
    );
    const other = await run({ accounts: 2, locationsPerAccount: 5, reviewsPerLocation: [0, 60], seed: 99 }, Date.now());
    assert.notDeepEqual(other.data, a.data);
  });

  it("sizes tiny, demo and large as documented", async () => {
    const shape = (name: "tiny" | "demo" | "large") =>
      withEmulator({ seed: name }, async (emu) => {
        const data = emu.controls.data();
        const counts = data.accounts.flatMap((acc) => acc.locations.map((l) => l.reviewCount));
        return {
          accounts: data.accounts.length,
          perAccount: data.accounts.map((acc) => acc.locations.length),
          counts,
          total: data.totalReviews,
        };
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

  it("places every seeded time in the 20 days before the fixed anchor, 2026-01-01T00:00:00Z", async () => {
    assert.equal(new Date(SEED_ANCHOR_MS).toISOString(), "2026-01-01T00:00:00.000Z");
    await withEmulator({ seed: "demo" }, async (emu) => {
      const body = (await firstLocationReviews(emu)) as {
        reviews: { createTime: string; updateTime: string; reviewReply?: { updateTime: string } }[];
      };
      assert.ok(body.reviews.length > 0);
      for (const r of body.reviews) {
        const created = Date.parse(r.createTime);
        assert.ok(created < SEED_ANCHOR_MS && created >= SEED_ANCHOR_MS - REVIEW_AGE_DAYS * DAY_MS - 60_000, r.createTime);
        assert.ok(Date.parse(r.updateTime) < SEED_ANCHOR_MS && Date.parse(r.updateTime) >= created, r.updateTime);
        if (r.reviewReply) assert.ok(Date.parse(r.reviewReply.updateTime) < SEED_ANCHOR_MS);
      }
    });
  });

  it("dates edits and additions after every seeded review, even under a clock set before the anchor", async () => {
    let now = SEED_ANCHOR_MS - 90 * DAY_MS;
    await withEmulator({ seed: "tiny", now: () => now }, async (emu) => {
      const parent = emu.controls.data().accounts[0]?.locations[0]?.parent as string;
      const seeded = (await firstLocationReviews(emu)) as { reviews: { name: string; updateTime: string }[] };
      const newest = Date.parse(seeded.reviews[0]?.updateTime as string);
      const oldest = seeded.reviews[seeded.reviews.length - 1] as { name: string };
      const edited = emu.controls.editReview({ name: oldest.name, comment: "edited" });
      const added = emu.controls.addReview({ location: parent });
      assert.ok(Date.parse(edited.updateTime) > newest && Date.parse(added.updateTime) > Date.parse(edited.updateTime));
      now = Date.now();
      const later = emu.controls.editReview({ name: oldest.name, comment: "edited again" });
      assert.equal(later.updateTime, new Date(now).toISOString(), "a real clock is used as is");
    });
  });

  it("rejects nonsense seed specs", () => {
    assert.throws(() => resolveSeed({ accounts: 0, locationsPerAccount: 1, reviewsPerLocation: [0, 1] }), ControlError);
    assert.throws(() => resolveSeed({ accounts: 1, locationsPerAccount: 1, reviewsPerLocation: [5, 1] }), ControlError);
    assert.throws(() => resolveSeed("huge" as never), ControlError);
  });
});
