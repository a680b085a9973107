import { ControlError, type SeedName, type SeedSpec } from "./types.js";

/** Seed used when a spec does not name one, so data is the same on every run. */
export const DEFAULT_SEED = 20240601;

/** The sizes promised by DESIGN.md; `large` is the "3 accounts x 200 locations x 0-500" case. */
export const NAMED_SEEDS: Readonly<Record<SeedName, SeedSpec>> = {
  tiny: { accounts: 1, locationsPerAccount: 2, reviewsPerLocation: [3, 8] },
  demo: { accounts: 2, locationsPerAccount: 5, reviewsPerLocation: [0, 60] },
  large: { accounts: 3, locationsPerAccount: 200, reviewsPerLocation: [0, 500] },
};

export function isSeedName(value: string): value is SeedName {
  return Object.hasOwn(NAMED_SEEDS, value);
}

export type ResolvedSeed = Required<SeedSpec>;

/** Turns a name or a spec into a validated spec; throws ControlError on nonsense sizes. */
export function resolveSeed(seed: SeedName | SeedSpec | undefined): ResolvedSeed {
  let spec: SeedSpec;
  if (seed === undefined) spec = NAMED_SEEDS.tiny;
  else if (typeof seed === "string") {
    if (!isSeedName(seed)) throw new ControlError(400, `unknown seed "${String(seed)}" (tiny, demo, large)`);
    spec = NAMED_SEEDS[seed];
  } else spec = seed;

  const [min, max] = spec.reviewsPerLocation;
  const counts = { accounts: spec.accounts, locationsPerAccount: spec.locationsPerAccount, min, max };
  for (const [key, value] of Object.entries(counts)) {
    if (!Number.isInteger(value) || value < 0) throw new ControlError(400, `seed ${key} must be a non-negative integer`);
  }
  if (spec.accounts < 1) throw new ControlError(400, "seed accounts must be at least 1 (the personal account)");
  if (min > max) throw new ControlError(400, "seed reviewsPerLocation min must not exceed max");
  return {
    accounts: spec.accounts,
    locationsPerAccount: spec.locationsPerAccount,
    reviewsPerLocation: [min, max],
    seed: spec.seed ?? DEFAULT_SEED,
  };
}
