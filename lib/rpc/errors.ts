// How any thrown value becomes what a caller may see. The errors services throw on purpose live
// in lib/errors; everything else is an outage (UNAVAILABLE) or a bug (INTERNAL, details logged).
import { Code, ConnectError } from "@connectrpc/connect";
import { errors as natsErrors } from "@nats-io/nats-core";
import { JetStreamPublishError } from "../nats/acked-publisher.js";
import { DomainError } from "../errors/index.js";
import type { Logger } from "../log/logger.js";

/**
 * Codes that mean "a dependency is away, try again later", not "you did it wrong": Node's socket
 * and resolver codes (as connect-node's node-error.ts reads them), Postgres SQLSTATEs for a server
 * shutting down, starting or full (57P01, 57P03, 53300) and for a lost connection (class 08).
 */
const INFRA_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "57P01",
  "57P03",
  "53300",
  "08006",
  "08001",
  "08003",
]);

/** NATS's own errors for a connection that is gone, closing or not answering. */
const NATS_UNAVAILABLE = [
  natsErrors.ConnectionError,
  natsErrors.ClosedConnectionError,
  natsErrors.DrainingConnectionError,
  natsErrors.TimeoutError,
  natsErrors.NoRespondersError,
];

/**
 * node-postgres and pg-pool raise a few failures with no code at all (the connection ended, no
 * connection within the pool's timeout). Their messages are the only sign, so they are matched
 * whole, here and nowhere else; every other error is known by its code or class.
 */
const PG_CODELESS = new Set([
  "Connection terminated",
  "Connection terminated unexpectedly",
  "timeout exceeded when trying to connect",
  "Connection terminated due to connection timeout",
]);

/**
 * The error and what it wraps, outermost first: `cause` (Node, connect-node, nats.js), TypeORM's
 * `driverError`, and the attempts of an AggregateError (Node's connect to several addresses).
 */
export function errorChain(err: unknown): unknown[] {
  const chain: unknown[] = [];
  const queue: unknown[] = [err];
  while (queue.length && chain.length < 32) {
    const next = queue.shift();
    if (next === null || typeof next !== "object" || chain.includes(next)) continue;
    chain.push(next);
    const e = next as { cause?: unknown; driverError?: unknown; errors?: unknown };
    queue.push(e.cause, e.driverError);
    if (next instanceof AggregateError && Array.isArray(e.errors)) queue.push(...(e.errors as unknown[]));
  }
  return chain;
}

function isInfrastructureFailure(err: unknown): boolean {
  return errorChain(err).some((e) => {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && INFRA_CODES.has(code)) return true;
    if (NATS_UNAVAILABLE.some((type) => e instanceof type)) return true;
    if (e instanceof JetStreamPublishError && e.unavailable) return true;
    return e instanceof Error && code === undefined && PG_CODELESS.has(e.message);
  });
}

/** The one mapping from errors to what a caller sees. Unknown errors are logged and hidden. */
export function toConnectError(err: unknown, logger?: Logger): ConnectError {
  if (err instanceof ConnectError) return err;
  if (err instanceof DomainError) {
    return new ConnectError(err.message, err.code, new Headers(err.metadata));
  }
  if (isInfrastructureFailure(err)) {
    logger?.error("dependency unavailable", { err });
    return new ConnectError("a dependency is unavailable; retry later", Code.Unavailable);
  }
  logger?.error("internal error", { err });
  return new ConnectError("internal error", Code.Internal);
}
