/**
 * Incremental intervals that follow each location's rate of changes.
 *
 * For a fixed number of passes per day spread over locations whose reviews change at rates λᵢ
 * (as Poisson processes), polling location i with frequency fᵢ ∝ √λᵢ minimises the mean delay
 * between a change and the pass that sees it (the mean delay of a change at a location polled
 * every Tᵢ is Tᵢ/2, and minimising Σ λᵢ/fᵢ subject to Σ fᵢ = F gives fᵢ = F·√λᵢ / Σ√λⱼ). The
 * budget F is what a uniform interval would spend (N locations / mean interval), so adaptive
 * intervals cost the quota no more than the policy's plain interval; each interval is then kept
 * within the policy's minimum and maximum.
 */

export interface IntervalBounds {
  /** The policy's mean interval: what every location would get without adaptation. */
  meanSeconds: number;
  minSeconds: number;
  maxSeconds: number;
}

/**
 * A floor under every rate (changes per day): a location with no observed change still gets
 * polled (at the maximum interval at worst), and one or two changes do not swing it far.
 */
const PRIOR_CHANGES_PER_DAY = 0.05;

/** Intervals in seconds, in the order of `changesPerDay`. */
export function adaptiveIntervals(changesPerDay: readonly number[], bounds: IntervalBounds): number[] {
  const n = changesPerDay.length;
  if (n === 0) return [];
  const roots = changesPerDay.map((rate) => Math.sqrt(Math.max(0, rate) + PRIOR_CHANGES_PER_DAY));
  const sum = roots.reduce((a, b) => a + b, 0);
  const budgetPerSecond = n / bounds.meanSeconds;
  return roots.map((root) => {
    const frequency = (budgetPerSecond * root) / sum;
    return Math.round(Math.min(bounds.maxSeconds, Math.max(bounds.minSeconds, 1 / frequency)));
  });
}
