import type { SyncDefaults } from "../../../lib/config/index.js";

/** A sync_policies row: what was set for one client over the SYNC_* defaults (NULL = the default). */
export interface SyncPolicyRow {
  client_id: string;
  tenant_id: string | null;
  enabled: boolean | null;
  incremental_every_seconds: number | null;
  full_every_seconds: number | null;
  adaptive: boolean | null;
  min_incremental_seconds: number | null;
  max_incremental_seconds: number | null;
  /** May the notification reconciler replace a topic that is someone else's (NULL = no). */
  take_over_notifications?: boolean | null;
  updated_at: Date;
  updated_by: string;
}

/** The values a client may set over the defaults (all of SyncDefaults but the planner's tick). */
export type SyncPolicyFields = Omit<SyncDefaults, "tickMs"> & {
  /** The notification reconciler may replace another topic in the client's accounts (default false). */
  takeOverNotifications: boolean;
};
export type SyncPolicyPatch = Partial<SyncPolicyFields>;

/** The policy in force for a client: its own values where it has them, the defaults elsewhere. */
export interface EffectivePolicy extends SyncPolicyFields {
  /** True when nothing is set for the client: every value is the default. */
  usesDefaults: boolean;
  /** When the client's own values last changed; unset while it uses the defaults. */
  updatedAt?: Date;
}

/** The shortest interval bounds scaled from a client's own mean ever get (as config.ts's default). */
const SCALED_MIN_FLOOR_SECONDS = 60;

/**
 * The policy in force. A client's own values win over the defaults, and the adaptive bounds stay
 * consistent: min ≤ mean ≤ max.
 *
 * - A client that sets only its mean interval gets bounds in the defaults' proportions (with the
 *   defaults' 900 s, 112 s…7200 s, a client's 3600 s gets 448 s…28800 s), so a longer mean never
 *   sits outside bounds made for another one.
 * - Where a client's own value and a default still conflict, the default yields: a bound moves
 *   to the client's mean, or the default mean moves inside the client's bounds.
 * - Two values the client set that conflict cannot be stored (UpdateSyncPolicy refuses them); if
 *   they were, the mean is clamped into the bounds, and a max below the min is raised to it.
 */
export function resolvePolicy(defaults: SyncDefaults, row: SyncPolicyRow | undefined): EffectivePolicy {
  const own = {
    mean: row?.incremental_every_seconds ?? null,
    min: row?.min_incremental_seconds ?? null,
    max: row?.max_incremental_seconds ?? null,
  };
  let mean = own.mean ?? defaults.incrementalEverySeconds;
  const scale = mean / defaults.incrementalEverySeconds;
  let min =
    own.min ??
    (own.mean === null
      ? defaults.minIncrementalSeconds
      : Math.max(Math.min(SCALED_MIN_FLOOR_SECONDS, mean), Math.round(defaults.minIncrementalSeconds * scale)));
  let max = own.max ?? (own.mean === null ? defaults.maxIncrementalSeconds : Math.round(defaults.maxIncrementalSeconds * scale));

  if (min > max) {
    if (own.max !== null && own.min === null) min = max;
    else max = min;
  }
  if (own.mean !== null) {
    if (own.min === null) min = Math.min(min, mean);
    if (own.max === null) max = Math.max(max, mean);
  }
  mean = Math.min(Math.max(mean, min), max);

  const usesDefaults =
    !row ||
    [
      row.enabled,
      row.incremental_every_seconds,
      row.full_every_seconds,
      row.adaptive,
      row.min_incremental_seconds,
      row.max_incremental_seconds,
      row.take_over_notifications ?? null,
    ].every((v) => v === null);
  return {
    enabled: row?.enabled ?? defaults.enabled,
    incrementalEverySeconds: mean,
    fullEverySeconds: row?.full_every_seconds ?? defaults.fullEverySeconds,
    adaptive: row?.adaptive ?? defaults.adaptive,
    minIncrementalSeconds: min,
    maxIncrementalSeconds: max,
    takeOverNotifications: row?.take_over_notifications ?? false,
    usesDefaults,
    ...(usesDefaults ? {} : { updatedAt: row!.updated_at }),
  };
}

/**
 * Why a client's own interval values contradict each other (two it set itself: min > max,
 * min > mean or mean > max), or undefined when they do not. Values left to the defaults never
 * conflict: resolvePolicy moves them.
 */
export function conflictOf(
  row: Pick<SyncPolicyRow, "incremental_every_seconds" | "min_incremental_seconds" | "max_incremental_seconds">,
): string | undefined {
  const { incremental_every_seconds: mean, min_incremental_seconds: min, max_incremental_seconds: max } = row;
  if (min !== null && max !== null && min > max) return `min_incremental_seconds (${min}) must not exceed max_incremental_seconds (${max})`;
  if (min !== null && mean !== null && min > mean)
    return `min_incremental_seconds (${min}) must not exceed incremental_every_seconds (${mean})`;
  if (mean !== null && max !== null && mean > max)
    return `incremental_every_seconds (${mean}) must not exceed max_incremental_seconds (${max})`;
  return undefined;
}
