import { GoogleApiError } from "../../../lib/google/index.js";
import { AbortedError } from "./sleep.js";

/**
 * Why a task attempt failed, decided once: `transient` is retried (nak with backoff) until the
 * last attempt, `permanent` is dead-lettered at once. `jobFatal` failures also end the whole job
 * FAILED (no other task of it can succeed: the grant needs re-consent, the token is refused).
 * Messages are written for people and are free of tokens: they end up in dead letters.
 */
export class TaskFailure extends Error {
  constructor(
    readonly kind: "transient" | "permanent",
    readonly code: string,
    message: string,
    readonly details: { httpStatus?: number; jobFatal?: boolean; rateLimited?: boolean } = {},
  ) {
    super(message);
    this.name = "TaskFailure";
  }
}

/** Not a failure: the task cannot run yet (e.g. its previous page has not committed). */
export class DeferTask extends Error {
  constructor(
    readonly delayMs: number,
    reason: string,
  ) {
    super(reason);
    this.name = "DeferTask";
  }
}

export type TaskOutcomeError = TaskFailure | DeferTask | AbortedError;

/** Classifies anything a task threw. Unknown errors (Postgres, NATS) are transient. */
export function toTaskError(err: unknown): TaskOutcomeError {
  if (err instanceof TaskFailure || err instanceof DeferTask || err instanceof AbortedError) return err;
  if (err instanceof GoogleApiError) {
    if (err.kind === "aborted") return new AbortedError();
    if (err.kind === "transient")
      return new TaskFailure("transient", err.code, err.message, { httpStatus: err.httpStatus, rateLimited: err.rateLimited });
    // a 401 reaching here already had its one refresh: the grant itself is refused
    if (err.kind === "unauthenticated") {
      return new TaskFailure("permanent", err.code, `${err.message} (after a token refresh)`, {
        httpStatus: err.httpStatus,
        jobFatal: true,
      });
    }
    return new TaskFailure("permanent", err.code, err.message, { httpStatus: err.httpStatus });
  }
  return new TaskFailure("transient", "INTERNAL", "internal error in the fetcher (see its log)");
}

/** Exponential backoff with jitter: base × 2^(attempt-1), capped, then scaled by 50–100 %. */
export function backoffMs(attempt: number, baseMs: number, maxMs: number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.max(1, Math.round(ceiling * (0.5 + Math.random() * 0.5)));
}
