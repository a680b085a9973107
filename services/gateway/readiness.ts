import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { errors as natsErrors } from "@nats-io/nats-core";
import type { DataSource } from "typeorm";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import type { Nats } from "../../lib/nats/index.js";
import { createServiceClient, errorChain } from "../../lib/rpc/index.js";

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
export function createReadiness(deps: {
  dataSource: DataSource;
  nats?: Nats;
  upstreams: UpstreamHealth[];
  timeoutMs: number;
  peerIdleTimeoutMs?: number;
}): Readiness {
  const clients = deps.upstreams.map((u) => ({
    ...u,
    client: createServiceClient(Health, u.baseUrl, { peerIdleTimeoutMs: deps.peerIdleTimeoutMs }) as Client<typeof Health>,
  }));
  const timed = async (work: (signal: AbortSignal) => Promise<void>): Promise<CheckResult> => {
    const started = performance.now();
    const signal = AbortSignal.timeout(deps.timeoutMs);
    try {
      await Promise.race([
        work(signal),
        new Promise<never>((_, reject) =>
          signal.addEventListener("abort", () => reject(new NoAnswer(`no answer within ${deps.timeoutMs} ms`)), { once: true }),
        ),
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
        [
          "nats",
          deps.nats ? timed(async () => void (await deps.nats!.connection.rtt())) : Promise.resolve({ ok: true, ms: 0, skipped: true }),
        ],
        ...clients.map((u): [string, Promise<CheckResult>] => [
          u.name,
          timed(async (signal) => {
            const res = await u.client.check({ service: u.service }, { signal });
            if (res.status !== ServingStatus.SERVING) throw new NotServing(`reports ${ServingStatus[res.status]}`);
          }),
        ]),
      ];
      const results = await Promise.all(entries.map(([, p]) => p));
      const checks = Object.fromEntries(entries.map(([name], i) => [name, results[i]]));
      return { ready: results.every((r) => r.ok), checks };
    },
  };
}

/** A dependency that answered, but not SERVING: its status is the reason. */
class NotServing extends Error {}
/** No answer within the check's time. */
class NoAnswer extends Error {}

const REFUSED = new Set(["ECONNREFUSED"]);
const LOST = new Set([
  "ECONNRESET",
  "EPIPE",
  "ERR_STREAM_DESTROYED",
  "ERR_HTTP2_INVALID_STREAM",
  "ERR_HTTP2_STREAM_ERROR",
  "ERR_HTTP2_GOAWAY_SESSION",
  "57P01",
  "08006",
  "08003",
]);
const TIMED_OUT = new Set(["ETIMEDOUT", "ABORT_ERR"]);

/**
 * A short reason without addresses: "connection refused" rather than "connect ECONNREFUSED
 * 10.0.0.3:5432". Told by Node's error codes along the cause chain (connect-node keeps the socket
 * error as the cause of its ConnectError), Postgres SQLSTATEs, NATS's error classes and the
 * Connect code, never by message text.
 */
function describe(err: unknown): string {
  if (err instanceof NotServing) return err.message;
  if (err instanceof NoAnswer) return "timed out";
  const chain = errorChain(err);
  const codes = chain.map((e) => (e as { code?: unknown }).code).filter((c): c is string => typeof c === "string");
  if (codes.some((c) => REFUSED.has(c))) return "connection refused";
  if (
    codes.some((c) => LOST.has(c)) ||
    chain.some((e) => e instanceof natsErrors.ClosedConnectionError || e instanceof natsErrors.ConnectionError)
  )
    return "connection lost";
  if (codes.some((c) => TIMED_OUT.has(c)) || chain.some((e) => e instanceof natsErrors.TimeoutError)) return "timed out";
  const connect = chain.find((e): e is ConnectError => e instanceof ConnectError);
  if (connect?.code === Code.DeadlineExceeded) return "timed out";
  // grpc.health.v1 answers NOT_FOUND for a service the server does not register
  if (connect?.code === Code.NotFound) return "service not registered";
  return "unavailable";
}
