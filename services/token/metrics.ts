import { Counter, Histogram, type Registry } from "../../lib/metrics/index.js";

export type RefreshOutcome = "success" | "invalid_grant" | "invalid_client" | "rejected" | "transient";

/** The TokenService's Prometheus metrics, registered on the instance's own registry. */
export interface TokenMetrics {
  refreshes: Counter<"outcome" | "trigger">;
  validateSeconds: Histogram<"source">;
  sweeperRuns: Counter<"outcome">;
}

export function createTokenMetrics(registry: Registry): TokenMetrics {
  return {
    refreshes: new Counter({
      name: "reviewflow_token_refreshes_total",
      help: "Refresh grants sent to Google, by outcome and by what triggered them (validate, force, sweeper).",
      labelNames: ["outcome", "trigger"],
      registers: [registry],
    }),
    validateSeconds: new Histogram({
      name: "reviewflow_token_validate_seconds",
      help: "ValidateToken latency inside the service, by where the token came from (cache, database, refresh).",
      labelNames: ["source"],
      buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers: [registry],
    }),
    sweeperRuns: new Counter({
      name: "reviewflow_token_sweeper_runs_total",
      help: "Sweeper passes over tokens about to enter the refresh window, by outcome.",
      labelNames: ["outcome"],
      registers: [registry],
    }),
  };
}
