// Fault injection: transient 5xx, 429, added latency and permanent 403s for chosen locations.
// Probabilities draw from a seeded PRNG, so a run with the same seed and the same requests
// injects the same faults.
import type { LocationRec } from "./model.js";
import { mixSeed, mulberry32 } from "./prng.js";
import { API_ENDPOINTS, ControlError, type FaultInfo, type FaultKind, type FaultSpec } from "./types.js";

/** Faults may target the API endpoints, and the token endpoint for error/latency (refresh paths). */
const FAULT_ENDPOINTS: readonly string[] = [...API_ENDPOINTS, "token"];
const KINDS: readonly FaultKind[] = ["error", "rate_limit", "latency", "forbidden"];
/** The endpoints that name locations, so a per-location 403 can apply to them. */
const REVIEW_ENDPOINTS = ["reviews.list", "reviews.get", "reviews.batchGet"];
const MAX_LATENCY_MS = 600_000;

export type Failure = { kind: "error"; status: 500 | 503 } | { kind: "rate_limit" };

export interface FaultRegistry {
  add(spec: FaultSpec): { id: string };
  remove(id: string): boolean;
  clear(): void;
  list(): FaultInfo[];
  /** Rolls every matching fault once: total added latency and the first failure, if any. */
  roll(endpoint: string): { latencyMs: number; failure?: Failure };
  /** True when a forbidden fault covers one of these locations (and it fires). */
  forbidden(endpoint: string, locations: readonly LocationRec[]): boolean;
}

interface ActiveFault extends FaultInfo {
  matchesLocation?: (loc: LocationRec) => boolean;
}

export function validateFault(spec: FaultSpec): FaultSpec {
  if (typeof spec !== "object" || spec === null) throw new ControlError(400, "fault must be an object");
  if (!KINDS.includes(spec.kind)) throw new ControlError(400, `kind must be one of ${KINDS.join(", ")}`);
  if (spec.endpoint !== undefined && !FAULT_ENDPOINTS.includes(spec.endpoint)) {
    throw new ControlError(400, `endpoint must be one of ${FAULT_ENDPOINTS.join(", ")}`);
  }
  if (spec.endpoint === "token" && spec.kind !== "error" && spec.kind !== "latency") {
    throw new ControlError(400, "the token endpoint supports error and latency faults only");
  }
  if (spec.rate !== undefined && (typeof spec.rate !== "number" || !(spec.rate >= 0 && spec.rate <= 1))) {
    throw new ControlError(400, "rate must be a number between 0 and 1");
  }
  if (spec.count !== undefined && (!Number.isInteger(spec.count) || spec.count < 1))
    throw new ControlError(400, "count must be a positive integer");
  if (spec.kind === "error" && spec.status !== undefined && spec.status !== 500 && spec.status !== 503) {
    throw new ControlError(400, "status must be 500 or 503");
  }
  if (spec.kind === "latency") {
    const ms = spec.latencyMs;
    if (typeof ms !== "number" || !Number.isFinite(ms) || ms < 0 || ms > MAX_LATENCY_MS) {
      throw new ControlError(400, `latencyMs must be a number between 0 and ${MAX_LATENCY_MS}`);
    }
  }
  if (spec.kind === "forbidden") {
    if (spec.endpoint !== undefined && !REVIEW_ENDPOINTS.includes(spec.endpoint)) {
      throw new ControlError(400, `forbidden faults apply to ${REVIEW_ENDPOINTS.join(", ")}`);
    }
    const locs = spec.locations;
    if (
      !Array.isArray(locs) ||
      locs.length === 0 ||
      !locs.every((l) => typeof l === "string" && /^(accounts\/[^/]+\/)?locations\/[^/]+$/.test(l))
    ) {
      throw new ControlError(400, 'locations must list "accounts/A/locations/L" or "locations/L" names');
    }
  }
  // Keep only the known keys, so listFaults() echoes exactly what is in force.
  const clean: FaultSpec = { kind: spec.kind };
  for (const key of ["endpoint", "status", "rate", "count", "latencyMs", "locations"] as const) {
    if (spec[key] !== undefined) (clean as unknown as Record<string, unknown>)[key] = spec[key];
  }
  return clean;
}

export function createFaultRegistry(seed: number, onInjected: () => void): FaultRegistry {
  const rng = mulberry32(mixSeed(seed, 5));
  const faults: ActiveFault[] = [];
  let nextId = 1;

  /** Counts an injection when the fault is live and its rate roll hits. */
  function fires(f: ActiveFault): boolean {
    if (f.count !== undefined && f.injected >= f.count) return false;
    // Rate 1 draws nothing, so adding a sure fault never shifts another fault's sequence.
    const rate = f.rate ?? 1;
    if (rate < 1 && !(rng() < rate)) return false;
    f.injected++;
    onInjected();
    return true;
  }

  function appliesTo(f: ActiveFault, endpoint: string): boolean {
    return f.endpoint === undefined ? (API_ENDPOINTS as readonly string[]).includes(endpoint) : f.endpoint === endpoint;
  }

  return {
    add(spec) {
      const valid = validateFault(spec);
      const id = `fault-${nextId++}`;
      const fault: ActiveFault = { ...valid, id, injected: 0 };
      if (valid.kind === "error") fault.status = valid.status ?? 503;
      if (valid.kind === "forbidden") {
        const names = new Set(valid.locations);
        fault.matchesLocation = (loc) => names.has(loc.parent) || names.has(loc.name);
      }
      faults.push(fault);
      return { id };
    },
    remove(id) {
      const i = faults.findIndex((f) => f.id === id);
      if (i >= 0) faults.splice(i, 1);
      return i >= 0;
    },
    clear() {
      faults.length = 0;
    },
    list: () => faults.map(({ matchesLocation: _, ...info }) => structuredClone(info)),

    roll(endpoint) {
      let latencyMs = 0;
      let failure: Failure | undefined;
      for (const f of faults) {
        if (f.kind === "forbidden" || !appliesTo(f, endpoint)) continue;
        if (f.kind !== "latency" && failure) continue;
        if (!fires(f)) continue;
        if (f.kind === "latency") latencyMs += f.latencyMs ?? 0;
        else if (f.kind === "rate_limit") failure = { kind: "rate_limit" };
        else failure = { kind: "error", status: f.status === 500 ? 500 : 503 };
      }
      return failure ? { latencyMs, failure } : { latencyMs };
    },

    forbidden(endpoint, locations) {
      for (const f of faults) {
        if (f.kind !== "forbidden") continue;
        if (f.endpoint !== undefined ? f.endpoint !== endpoint : !REVIEW_ENDPOINTS.includes(endpoint)) continue;
        if (locations.some((l) => f.matchesLocation?.(l)) && fires(f)) return true;
      }
      return false;
    },
  };
}
