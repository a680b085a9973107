/**
 * The longest delay a Node timer holds: anything longer fires after 1 ms instead (Node's
 * TimeoutOverflowWarning), so Connect's deadline signal would cancel a call with a legal but
 * huge deadline (`connect-timeout-ms: 3000000000`, `grpc-timeout: 2500000S`) at once.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The longest deadline connect-es can send upstream: its gRPC client writes `grpc-timeout` as
 * `<ms>m`, and the gRPC spec allows 8 digits (a longer value is refused as malformed).
 */
export const MAX_FORWARDED_DEADLINE_MS = 99_999_999;

const GRPC_UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1_000, m: 1, u: 0.001, n: 0.000_001 };

type NodeHeaders = Record<string, string | string[] | undefined>;

/** A deadline header's value in ms (Connect's or gRPC's format); undefined when malformed (Connect answers those). */
const DEADLINE_HEADERS: Record<string, (value: string) => number | undefined> = {
  "connect-timeout-ms": (value) => (/^\d{1,10}$/.test(value) ? Number(value) : undefined),
  "grpc-timeout": (value) => {
    const match = /^(\d{1,8})([HMSmun])$/.exec(value);
    return match ? Number(match[1]) * GRPC_UNIT_MS[match[2]!]! : undefined;
  },
};

/**
 * Removes a deadline no timer can hold from a request's headers, before Connect reads them: a
 * deadline past 2³¹−1 ms (24.8 days) is, for any call, the same as none, and that is how it is
 * served, on every port (lib/rpc/server.ts calls this for every request).
 */
export function dropUnholdableDeadline(headers: NodeHeaders): void {
  for (const [name, parse] of Object.entries(DEADLINE_HEADERS)) {
    const value = headers[name];
    const ms = typeof value === "string" ? parse(value) : undefined;
    if (ms !== undefined && ms > MAX_TIMER_MS) delete headers[name];
  }
}

/** A deadline as it may travel upstream: one longer than the gRPC header can carry is left to the caller's signal. */
export function forwardableDeadline(ms: number | undefined): number | undefined {
  return ms !== undefined && ms <= MAX_FORWARDED_DEADLINE_MS ? ms : undefined;
}
