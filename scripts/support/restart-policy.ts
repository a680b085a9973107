// When a service the launcher started dies on its own (kill -9, an out-of-memory kill, a crash),
// `npm start` starts it again, as a supervisor would, instead of stopping the whole system. The
// wait doubles with each restart in a row, so a service that cannot stay up is not spun on; one
// that stayed up a while counts as healthy again, and a crash loop ends the run with its lines.
export interface RestartPolicy {
  /** The wait before the first restart; doubled for each further one in a row. */
  firstDelayMs: number;
  maxDelayMs: number;
  /** A service that ran this long before dying starts again from the first delay. */
  healthyAfterMs: number;
  /** Restarts in a row after which the launcher gives up and stops everything. */
  maxInARow: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = { firstDelayMs: 1_000, maxDelayMs: 30_000, healthyAfterMs: 60_000, maxInARow: 5 };

/** Counts the restarts of one service in a row and says how long to wait before the next, or that it is time to give up. */
export class RestartTracker {
  private inARow = 0;

  constructor(private readonly policy: RestartPolicy = DEFAULT_RESTART_POLICY) {}

  /** The service died after running `ranMs`: the wait before restarting it, or undefined to give up. */
  next(ranMs: number): { delayMs: number; attempt: number } | undefined {
    if (ranMs >= this.policy.healthyAfterMs) this.inARow = 0;
    if (this.inARow >= this.policy.maxInARow) return undefined;
    const delayMs = Math.min(this.policy.maxDelayMs, this.policy.firstDelayMs * 2 ** this.inARow);
    this.inARow += 1;
    return { delayMs, attempt: this.inARow };
  }
}
