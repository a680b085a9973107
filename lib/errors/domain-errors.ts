// The errors services throw, each with the Connect code it means. Their own module, below both
// lib/auth (which throws them) and lib/rpc (which turns them into answers), so neither imports
// the other for them. `toConnectError` in lib/rpc/errors.ts is the one place they become what a
// caller sees; causes go to the log only.
import { Code } from "@connectrpc/connect";

/** The base: a message for the caller and the Connect code it means (`metadata` become response headers). */
export class DomainError extends Error {
  constructor(
    readonly code: Code,
    message: string,
    readonly metadata: Record<string, string> = {},
  ) {
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
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(Code.ResourceExhausted, message, { "retry-after": String(Math.max(1, Math.ceil(retryAfterSeconds))) });
  }
}

export class UnavailableError extends DomainError {
  constructor(message: string) {
    super(Code.Unavailable, message);
  }
}
