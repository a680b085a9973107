import type { Client } from "@connectrpc/connect";
import type { DataSource } from "typeorm";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import type { Nats } from "../../lib/nats/index.js";
import { createServiceClient } from "../../lib/rpc/index.js";

export interface CheckResult {
  ok: boolean;
  ms: number;
  /** Why it failed, in a few words (no addresses, no credentials). */
  error?: string;
  /** Set when the dependency is not configured for this gateway. */
  skipped?: boolean;
}

export interface Readiness {
  check(): Promise<{ ready: boolean; checks: Record<string, CheckResult> }>;
}

export interface UpstreamHealth {
  /** The label in the answer, e.g. `token_service`. */
  name: string;
  /** The service's full name, asked of its grpc.health.v1 Check. */
  service: string;
  baseUrl: string;
}

/**
 * `/ready`: Postgres answers a query, NATS answers a round trip, and each service says SERVING
 * over grpc.health.v1, all in parallel, each within `timeoutMs`.
 */
export function createReadiness(deps: { dataSource: DataSource; nats?: Nats; upstreams: UpstreamHealth[]; timeoutMs: number; peerIdleTimeoutMs?: number }): Readiness {
  const clients = deps.upstreams.map((u) => ({ ...u, client: createServiceClient(Health, u.baseUrl, { peerIdleTimeoutMs: deps.peerIdleTimeoutMs }) as Client<typeof Health> }));
  const timed = async (work: (signal: AbortSignal) => Promise<void>): Promise<CheckResult> => {
    const started = performance.now();
    const signal = AbortSignal.timeout(deps.timeoutMs);
    try {
      await Promise.race([
        work(signal),
        new Promise<never>((_, reject) => signal.addEventListener("abort", () => reject(new Error(`no answer within ${deps.timeoutMs} ms`)), { once: true })),
      ]);
      return { ok: true, ms: Math.round(performance.now() - started) };
    } catch (err) {
      return { ok: false, ms: Math.round(performance.now() - started), error: describe(err) };
    }
  };
  return {
    async check() {
      const entries: [string, Promise<CheckResult>][] = [
        ["postgres", timed(async () => void (await deps.dataSource.query("SELECT 1")))],
        ["nats", deps.nats ? timed(async () => void (await deps.nats!.connection.rtt())) : Promise.resolve({ ok: true, ms: 0, skipped: true })],
        ...clients.map((u): [string, Promise<CheckResult>] => [
          u.name,
          timed(async (signal) => {
            const res = await u.client.check({ service: u.service }, { signal });
            if (res.status !== ServingStatus.SERVING) throw new Error(`reports ${ServingStatus[res.status]}`);
          }),
        ]),
      ];
      const results = await Promise.all(entries.map(([, p]) => p));
      const checks = Object.fromEntries(entries.map(([name], i) => [name, results[i]]));
      return { ready: results.every((r) => r.ok), checks };
    },
  };
}

/** A short reason without addresses: "connection refused" rather than "connect ECONNREFUSED 10.0.0.3:5432". */
function describe(err: unknown): string {
  const text = String((err as Error)?.message ?? err);
  if (/ECONNREFUSED/i.test(text)) return "connection refused";
  if (/ECONNRESET|socket hang up|closed/i.test(text)) return "connection lost";
  if (/timeout|timed out|no answer within|deadline/i.test(text)) return "timed out";
  if (/^reports /.test(text)) return text;
  if (/unknown service/i.test(text)) return "service not registered";
  return "unavailable";
}
