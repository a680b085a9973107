import assert from "node:assert/strict";
import { adaptiveIntervals } from "./adaptive-interval.js";

describe("adaptive incremental intervals", () => {
  const bounds = { meanSeconds: 900, minSeconds: 60, maxSeconds: 7_200 };

  it("give every location the mean interval when their rates are equal", () => {
    assert.deepEqual(adaptiveIntervals([5, 5, 5], bounds), [900, 900, 900]);
  });

  it("poll busier locations more often, in proportion to the square root of their rates", () => {
    const [busy, quiet] = adaptiveIntervals([16, 1], { ...bounds, minSeconds: 1, maxSeconds: 1e9 });
    assert.ok(Math.abs(quiet! / busy! - Math.sqrt(16.05 / 1.05)) < 0.01, `${quiet} / ${busy}`);
  });

  it("spend no more passes than the uniform interval would, before bounds", () => {
    const rates = [0, 0.1, 3, 40, 500];
    const intervals = adaptiveIntervals(rates, { ...bounds, minSeconds: 1, maxSeconds: 1e9 });
    const passesPerSecond = intervals.reduce((sum, t) => sum + 1 / t, 0);
    assert.ok(Math.abs(passesPerSecond - rates.length / 900) < 1e-4);
  });

  it("keep every interval within the policy's bounds", () => {
    for (const t of adaptiveIntervals([0, 0, 0, 10_000], bounds)) assert.ok(t >= 60 && t <= 7_200, String(t));
  });
});
