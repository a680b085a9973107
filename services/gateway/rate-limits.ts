import { sharedPool } from "../../lib/db/index.js";
import { RateLimiterMemory, RateLimiterPostgres, RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import type { DataSource } from "typeorm";
import type { Logger } from "../../lib/log/index.js";
import { toConnectError } from "../../lib/rpc/index.js";
import { ResourceExhaustedError } from "../../lib/errors/index.js";

export type LimitScope = "key" | "tenant" | "ip";

export interface RateLimitOptions {
  /** Requests per minute; 0 turns a scope off. */
  perKey: number;
  perTenant: number;
  perIp: number;
  store: "memory" | "postgres";
  /** Needed for the postgres store: counters live in `gateway_rate_limits` (migration 0004). */
  dataSource?: DataSource;
  logger: Logger;
  /** Called once per refusal, for the metrics. */
  onLimited?: (scope: LimitScope) => void;
}

export interface RateLimits {
  /** Counts one request against `scope`'s budget for `id`; throws a RESOURCE_EXHAUSTED ConnectError (with retry-after) when spent. */
  consume(scope: LimitScope, id: string): Promise<void>;
}

const WINDOW_SECONDS = 60;

/**
 * Per-minute budgets with rate-limiter-flexible. `memory` counts per gateway instance (fast, the
 * default); `postgres` shares the counts between instances at the price of a round trip per
 * scope. Should Postgres fail, requests are let through rather than refused: the limiter
 * protects the services, it must not become the outage.
 */
export function createRateLimits(options: RateLimitOptions): RateLimits {
  const limiters = new Map<LimitScope, RateLimiterAbstract>();
  const budgets: [LimitScope, number][] = [
    ["key", options.perKey],
    ["tenant", options.perTenant],
    ["ip", options.perIp],
  ];
  for (const [scope, points] of budgets) {
    if (points <= 0) continue;
    limiters.set(scope, createLimiter(options, scope, points));
  }
  return {
    async consume(scope, id) {
      const limiter = limiters.get(scope);
      if (!limiter) return;
      try {
        await limiter.consume(id, 1);
      } catch (rejection) {
        if (rejection instanceof RateLimiterRes) {
          options.onLimited?.(scope);
          const seconds = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
          // a ConnectError straight away: REST and Connect callers both read its retry-after
          throw toConnectError(
            new ResourceExhaustedError(
              `rate limit of ${limiter.points} requests per minute per ${scope === "ip" ? "client address" : scope === "key" ? "API key" : "tenant"} reached; retry in ${seconds} s`,
              seconds,
            ),
          );
        }
        options.logger.warn("rate limiter store failed; letting the request through", { scope, err: rejection });
      }
    },
  };
}

function createLimiter(options: RateLimitOptions, scope: LimitScope, points: number): RateLimiterAbstract {
  const keyPrefix = `gw_${scope}`;
  if (options.store === "memory") return new RateLimiterMemory({ keyPrefix, points, duration: WINDOW_SECONDS });
  if (!options.dataSource) throw new Error("GATEWAY_RATE_STORE=postgres needs a database");
  const pool = sharedPool(options.dataSource);
  // the table comes from migration 0004, so the limiter is ready at once (no DDL, no callback)
  return new RateLimiterPostgres({
    storeClient: pool,
    storeType: "pool",
    tableName: "gateway_rate_limits",
    tableCreated: true,
    keyPrefix,
    points,
    duration: WINDOW_SECONDS,
    clearExpiredByTimeout: true,
  });
}
