import type { Config } from "../../lib/config/index.js";

/** Where "now" comes from; tests move it forward to expire states and tokens without waiting. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** Timings of the TokenService, all injectable so tests stay fast. */
export interface TokenSettings {
  /** Validate returns a token with more than this left (TOKEN_REFRESH_WINDOW_SECONDS). */
  refreshWindowMs: number;
  /** A one-time consent state is accepted this long (DESIGN.md: 10 minutes). */
  stateTtlMs: number;
  /** A login link is accepted this long (DESIGN.md: 30 minutes). */
  loginLinkTtlMs: number;
  /** Longest time a decrypted token is served from memory without looking at Postgres. */
  cacheTtlMs: number;
  /** How often the sweeper looks for tokens about to enter the window; 0 disables it. */
  sweepIntervalMs: number;
  /** First cooldown after Google failed a refresh; doubles per failure up to cooldownMaxMs. */
  cooldownBaseMs: number;
  cooldownMaxMs: number;
  /** During a cooldown, a token with at least this much life left is still handed out. */
  minUsableMs: number;
  /** Base of login links: the gateway's public URL. */
  publicUrl: string;
  /** Timeout of each call to Google's OAuth endpoints (GOOGLE_TIMEOUT_MS, as for the fetcher). */
  googleTimeoutMs: number;
  /**
   * Token reads and refresh transactions in flight at once per instance. Keep it below the
   * connection pool (10): a refresh holds a connection while Google answers.
   */
  dbConcurrency: number;
}

/** The TokenService's settings from its config sections, with the fixed timings of DESIGN.md. */
export function tokenSettings(
  config: Pick<Config, "google" | "token"> & { gateway: Pick<Config["gateway"], "publicUrl"> },
  overrides: Partial<TokenSettings> = {},
): TokenSettings {
  return {
    refreshWindowMs: config.token.refreshWindowSeconds * 1000,
    stateTtlMs: 10 * 60_000,
    loginLinkTtlMs: 30 * 60_000,
    cacheTtlMs: 30_000,
    sweepIntervalMs: config.token.sweepIntervalSeconds * 1000,
    cooldownBaseMs: 5_000,
    cooldownMaxMs: 5 * 60_000,
    minUsableMs: 30_000,
    publicUrl: config.gateway.publicUrl,
    googleTimeoutMs: config.google.timeoutMs,
    dbConcurrency: 8,
    ...overrides,
  };
}
