/**
 * How many tasks a stage worker runs at once (FETCH_CONCURRENCY=auto), from Little's law: to keep
 * a Google project at its quota rate r with calls that take L, r × L calls must be in flight.
 * A task also spends about as long on its own reads and writes around its call, so the target
 * is twice the sum of r × L over the projects called lately, between a floor (parallelism for
 * Postgres and NATS round trips when Google answers at once) and FETCH_CONCURRENCY_MAX (beyond
 * which the fetcher's CPU, not Google, is the limit: more tasks would only queue). Tasks waiting
 * for their project's quota are not counted (stage-worker.ts), so a quota-bound project never
 * holds slots that another project's calls could use.
 *
 * Examples: Google's 300 requests a minute per project at 300 ms → 3 tasks a project, so 8 (the
 * floor) serve 2 projects and 64 serve ~20; a raised quota (1,000,000 a minute) at 50 ms → the
 * ceiling.
 */
export interface InFlightTarget {
  /** A Google call of `project` took `ms`, its quota wait left out. */
  observe(project: string, ms: number): void;
  /** Tasks a stage worker should run at once now. */
  current(): number;
}

export interface InFlightTargetOptions {
  /** FETCH_CONCURRENCY: a number fixes the target. */
  fixed: number | "auto";
  /** FETCH_CONCURRENCY_MAX. */
  max: number;
  /** GOOGLE_QPM: each project's quota. */
  qpm: number;
  /** Floor of the target (default 8, the fixed default before it followed latency; never above max). */
  min?: number;
  /** A project counts while it was called within this long (default 5 s). */
  activeMs?: number;
}

/** Weight of a new latency observation in the moving average. */
const ALPHA = 0.2;
/** The target is recomputed at most this often. */
const RECOMPUTE_MS = 100;

export function createInFlightTarget(options: InFlightTargetOptions): InFlightTarget {
  const max = options.max;
  const min = Math.min(options.min ?? 8, max);
  const activeMs = options.activeMs ?? 5_000;
  const perSecond = options.qpm / 60;
  const projects = new Map<string, { latencyMs: number; at: number }>();
  let cached = min;
  let computedAt = 0;

  return {
    observe(project, ms) {
      if (options.fixed !== "auto") return;
      const p = projects.get(project);
      if (p) {
        p.latencyMs += ALPHA * (ms - p.latencyMs);
        p.at = Date.now();
      } else projects.set(project, { latencyMs: ms, at: Date.now() });
    },
    current() {
      if (options.fixed !== "auto") return options.fixed;
      const now = Date.now();
      if (now - computedAt < RECOMPUTE_MS) return cached;
      computedAt = now;
      let inFlight = 0;
      for (const [project, p] of projects) {
        if (now - p.at > activeMs) projects.delete(project);
        else inFlight += perSecond * (p.latencyMs / 1000);
      }
      cached = Math.max(min, Math.min(max, Math.ceil(2 * inFlight)));
      return cached;
    },
  };
}
