import type { DataSource } from "typeorm";
import type { Logger } from "../../lib/log/index.js";
import type { TokenMetrics } from "./metrics.js";
import type { Clock } from "./settings.js";
import type { TokenManager } from "./token-manager.js";
import { queryRows } from "./token-store.js";

/**
 * Refreshes the tokens of connected clients before they enter the refresh window, so a
 * ValidateToken caller rarely waits on Google. Every instance may run one: each refresh takes
 * the client's row lock with SKIP LOCKED and re-reads, so two sweepers never refresh one token
 * twice. Clients cooling down after a Google failure are left alone until their retry time.
 * It also deletes consent states and login links that expired a day ago.
 */
export interface TokenSweeper {
  start(): void;
  /** Stops the timer and waits for a pass in progress. */
  stop(): Promise<void>;
  /** One pass now (tests and the first tick). Resolves with how many tokens it refreshed. */
  runOnce(): Promise<number>;
}

export interface SweeperOptions {
  dataSource: DataSource;
  tokens: TokenManager;
  clock: Clock;
  logger: Logger;
  metrics: TokenMetrics;
  intervalMs: number;
  refreshWindowMs: number;
  /** Clients refreshed per pass, oldest expiry first; the rest wait for the next pass. */
  batchSize?: number;
  /** Refreshes in flight at once, to stay gentle with Google and the pool. */
  concurrency?: number;
}

const EXPIRED_PROOF_RETENTION_MS = 24 * 3_600_000;

export function createTokenSweeper(options: SweeperOptions): TokenSweeper {
  const batchSize = options.batchSize ?? 200;
  const concurrency = options.concurrency ?? 4;
  // a token refreshed now must not enter the window before the next pass (plus a margin for a slow pass)
  const horizonMs = options.refreshWindowMs + options.intervalMs * 2 + 5_000;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;
  let stopped = true;

  async function pass(): Promise<number> {
    const now = options.clock.now();
    const due = await queryRows<{ client_id: string }>(
      options.dataSource.manager,
      `SELECT t.client_id FROM tokens t JOIN clients c ON c.id = t.client_id
       WHERE c.status = 'connected' AND t.refresh_token IS NOT NULL AND t.expires_at < $1
         AND (t.retry_after IS NULL OR t.retry_after <= $2)
       ORDER BY t.expires_at LIMIT $3`,
      [new Date(now + horizonMs), new Date(now), batchSize],
    );
    let refreshed = 0;
    const queue = due.map((row) => row.client_id);
    const worker = async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        if ((await options.tokens.refreshIfDue(id, horizonMs)) === "refreshed") refreshed += 1;
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, worker));
    const cutoff = new Date(now - EXPIRED_PROOF_RETENTION_MS);
    await options.dataSource.query(`DELETE FROM oauth_states WHERE expires_at < $1`, [cutoff]);
    await options.dataSource.query(`DELETE FROM oauth_login_links WHERE expires_at < $1`, [cutoff]);
    return refreshed;
  }

  function runOnce(): Promise<number> {
    running ??= pass()
      .then(
        (refreshed) => {
          options.metrics.sweeperRuns.inc({ outcome: "ok" });
          if (refreshed > 0) options.logger.info("sweeper refreshed tokens", { refreshed });
          return refreshed;
        },
        (err: unknown) => {
          options.metrics.sweeperRuns.inc({ outcome: "error" });
          options.logger.warn("sweeper pass failed", { err });
          return 0;
        },
      )
      .finally(() => {
        running = undefined;
      });
    return running;
  }

  function schedule(): void {
    if (stopped) return;
    // jitter, so instances started together do not sweep in lockstep
    const delay = options.intervalMs * (0.9 + Math.random() * 0.2);
    timer = setTimeout(() => void runOnce().finally(schedule), delay);
    timer.unref();
  }

  return {
    start() {
      if (options.intervalMs <= 0 || !stopped) return;
      stopped = false;
      schedule();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
    runOnce,
  };
}
