import { Code, ConnectError } from "@connectrpc/connect";
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

/** Errors from Postgres, NATS or the network that mean "try again later", not "you did it wrong". */
const INFRA_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "57P01", "57P03", "53300", "08006", "08001", "08003", "CONNECTION_CLOSED", "CONNECTION_REFUSED", "TIMEOUT"]);

function isInfrastructureFailure(err: unknown): boolean {
  const e = err as { code?: unknown; name?: string; message?: string; driverError?: unknown };
  if (typeof e?.code === "string" && INFRA_CODES.has(e.code)) return true;
  if (e?.driverError) return isInfrastructureFailure(e.driverError);
  return e?.name === "ConnectionError" || /Connection terminated|connection .*(closed|lost)|ECONNREFUSED|timeout exceeded when trying to connect/i.test(String(e?.message ?? ""));
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
