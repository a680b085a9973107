import { Code, ConnectError } from "@connectrpc/connect";
import { errors as natsErrors } from "@nats-io/nats-core";
import type { Logger } from "../log/logger.js";

/**
 * Domain errors: thrown inside services, each with the Connect code it means. One function,
 * `toConnectError`, turns any error into what a caller may see; causes go to the log only.
 */
export class DomainError extends Error {
  constructor(readonly code: Code, message: string, readonly metadata: Record<string, string> = {}) {
    super(message);
    this.name = new.target.name;
  }
}

export class NotFoundError extends DomainError {
  constructor(what: string, id: string) {
    super(Code.NotFound, `${what} "${id}" not found`);
  }
}

export class InvalidArgumentError extends DomainError {
  constructor(message: string) {
    super(Code.InvalidArgument, message);
  }
}

export class AlreadyExistsError extends DomainError {
  constructor(message: string) {
    super(Code.AlreadyExists, message);
  }
}

export class FailedPreconditionError extends DomainError {
  constructor(message: string) {
    super(Code.FailedPrecondition, message);
  }
}

export class PermissionDeniedError extends DomainError {
  constructor(message: string) {
    super(Code.PermissionDenied, message);
  }
}

export class UnauthenticatedError extends DomainError {
  constructor(message = "missing or invalid API key: send `authorization: Bearer <api key>`") {
    super(Code.Unauthenticated, message);
  }
}

/** Too much work: callers should retry after `retryAfterSeconds` (sent as the `retry-after` header). */
export class ResourceExhaustedError extends DomainError {
  constructor(message: string, readonly retryAfterSeconds: number) {
    super(Code.ResourceExhausted, message, { "retry-after": String(Math.max(1, Math.ceil(retryAfterSeconds))) });
  }
}

export class UnavailableError extends DomainError {
  constructor(message: string) {
    super(Code.Unavailable, message);
  }
}

/**
 * Codes that mean "a dependency is away, try again later", not "you did it wrong": Node's socket
 * and resolver codes (as connect-node's node-error.ts reads them), Postgres SQLSTATEs for a server
 * shutting down, starting or full (57P01, 57P03, 53300) and for a lost connection (class 08).
 */
const INFRA_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "57P01", "57P03", "53300", "08006", "08001", "08003"]);

/** NATS's own errors for a connection that is gone, closing or not answering. */
const NATS_UNAVAILABLE = [natsErrors.ConnectionError, natsErrors.ClosedConnectionError, natsErrors.DrainingConnectionError, natsErrors.TimeoutError, natsErrors.NoRespondersError];

/**
 * node-postgres and pg-pool raise a few failures with no code at all (the connection ended, no
 * connection within the pool's timeout). Their messages are the only sign, so they are matched
 * whole, here and nowhere else; every other error is known by its code or class.
 */
const PG_CODELESS = new Set(["Connection terminated", "Connection terminated unexpectedly", "timeout exceeded when trying to connect", "Connection terminated due to connection timeout"]);

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
