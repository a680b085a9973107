// Per-project, per-API requests-per-minute quotas (reference §3.3), enforced over a sliding
// 60-second window, plus the highest count seen in any 60-second window for the stats.
import { hashString } from "./prng.js";
import { API_NAMES, type ApiName, ControlError, type QuotaSetting } from "./types.js";

export const WINDOW_MS = 60_000;
/** Bounds memory when a caller floods the emulator; maxima above this are not tracked exactly. */
const MAX_TRACKED = 100_000;

export const API_SERVICE: Readonly<Record<ApiName, string>> = {
  accountmanagement: "mybusinessaccountmanagement.googleapis.com",
  businessinformation: "mybusinessbusinessinformation.googleapis.com",
  mybusiness: "mybusiness.googleapis.com",
  notifications: "mybusinessnotifications.googleapis.com",
};

/** Google client ids start with the Cloud project number; other ids get a stable fake one. */
export function projectNumber(clientId: string): string {
  const m = /^(\d+)-/.exec(clientId);
  return m ? (m[1] as string) : String(100_000_000_000 + (hashString(clientId) % 900_000_000_000));
}

/** Timestamps in arrival order; only those inside the last minute are kept. */
class TimeWindow {
  private times: number[] = [];
  private head = 0;

  /** Count of entries newer than `now - WINDOW_MS`. */
  size(now: number): number {
    const cutoff = now - WINDOW_MS;
    while (this.head < this.times.length && (this.times[this.head] as number) <= cutoff) this.head++;
    if (this.head > 1024 && this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
    return this.times.length - this.head;
  }

  push(t: number): void {
    this.times.push(t);
    if (this.times.length - this.head > MAX_TRACKED) this.head++;
  }
}

export type Quota = ReturnType<typeof createQuota>;

export function createQuota(defaultPerMinute: number, now: () => number) {
  const limits = new Map<string, number>([["*|*", defaultPerMinute]]);
  const usage = new Map<string, TimeWindow>();
  const arrivals = new Map<string, { window: TimeWindow; max: number }>();
  const key = (project: string, api: string) => `${project}|${api}`;

  function limitFor(project: string, api: ApiName): number {
    return limits.get(key(project, api)) ?? limits.get(key(project, "*")) ?? limits.get(key("*", api)) ?? (limits.get("*|*") as number);
  }

  return {
    limitFor,

    setLimit(s: QuotaSetting): void {
      if (!Number.isInteger(s.perMinute) || s.perMinute < 0) throw new ControlError(400, "perMinute must be a non-negative integer");
      if (s.api !== undefined && !API_NAMES.includes(s.api as ApiName)) {
        throw new ControlError(400, `unknown api "${s.api}" (${API_NAMES.join(", ")})`);
      }
      if (s.project !== undefined && (typeof s.project !== "string" || s.project === ""))
        throw new ControlError(400, "project must be a client id");
      limits.set(key(s.project ?? "*", s.api ?? "*"), s.perMinute);
    },

    /**
     * Counts one API request and decides it. Every request counts towards the window maximum
     * (a rejected one shows the caller went over); only admitted ones use up quota.
     */
    admit(project: string, api: ApiName): { ok: true } | { ok: false; limit: number } {
      const t = now();
      const k = key(project, api);
      let seen = arrivals.get(k);
      if (!seen) arrivals.set(k, (seen = { window: new TimeWindow(), max: 0 }));
      seen.window.push(t);
      seen.max = Math.max(seen.max, seen.window.size(t));

      const limit = limitFor(project, api);
      let used = usage.get(k);
      if (!used) usage.set(k, (used = new TimeWindow()));
      if (used.size(t) >= limit) return { ok: false, limit };
      used.push(t);
      return { ok: true };
    },

    maxPerWindow(): Record<string, Record<string, number>> {
      const out: Record<string, Record<string, number>> = {};
      for (const [k, v] of arrivals) {
        const [project, api] = k.split("|") as [string, string];
        (out[project] ??= {})[api] = v.max;
      }
      return out;
    },

    resetStats(): void {
      arrivals.clear();
    },

    resetUsage(): void {
      usage.clear();
    },
  };
}
