// Counters a test reads to assert what the product called. Sliding-window maxima live in
// quota.ts, which already keeps the per-window timestamps.
import type { EmulatorStats, GrantCounts } from "./types.js";

export interface Stats {
  request(endpoint: string, project: string | undefined): void;
  quotaRejection(project: string): void;
  grant(clientId: string, type: keyof GrantCounts): void;
  revocation(): void;
  faultInjected(): void;
  snapshot(maxPerWindow: EmulatorStats["maxPerWindow"]): EmulatorStats;
  reset(): void;
}

function bump(counter: Record<string, number>, key: string): void {
  counter[key] = (counter[key] ?? 0) + 1;
}

export function createStats(): Stats {
  let s = empty();

  function empty(): Omit<EmulatorStats, "maxPerWindow"> {
    return { requests: {}, byProject: {}, quotaRejections: {}, grants: {}, revocations: 0, faultsInjected: 0 };
  }

  return {
    request(endpoint, project) {
      bump(s.requests, endpoint);
      if (project !== undefined) bump((s.byProject[project] ??= {}), endpoint);
    },
    quotaRejection(project) {
      bump(s.quotaRejections, project);
    },
    grant(clientId, type) {
      (s.grants[clientId] ??= { authorization_code: 0, refresh_token: 0 })[type]++;
    },
    revocation() {
      s.revocations++;
    },
    faultInjected() {
      s.faultsInjected++;
    },
    // A deep copy, so a caller holding a snapshot never sees it change.
    snapshot: (maxPerWindow) => structuredClone({ ...s, maxPerWindow }),
    reset() {
      s = empty();
    },
  };
}
