import { Code, ConnectError } from "@connectrpc/connect";
import { codeToHttpStatus, codeToString } from "@connectrpc/connect/protocol-connect";

/** The JSON error body REST callers get: the Connect code name and a message for a person. */
export interface RestErrorBody {
  code: string;
  message: string;
}

export interface RestError {
  status: number;
  body: RestErrorBody;
  /** Response headers the error carries (`Retry-After` for resource_exhausted / unavailable). */
  headers: Record<string, string>;
}

/**
 * A ConnectError as a REST answer, with Connect's code → HTTP status mapping (invalid_argument
 * and failed_precondition 400, unauthenticated 401, permission_denied 403, not_found 404,
 * already_exists 409, resource_exhausted 429, unavailable 503, deadline_exceeded 504, …).
 * Only `rawMessage` is shown: errors reaching here were already cleaned by `toConnectError`.
 */
export function restErrorOf(err: ConnectError): RestError {
  const headers: Record<string, string> = {};
  const retryAfter = err.metadata.get("retry-after");
  if (retryAfter && /^\d+$/.test(retryAfter.trim())) headers["retry-after"] = retryAfter.trim();
  return {
    status: codeToHttpStatus(err.code),
    body: { code: codeToString(err.code), message: err.rawMessage || Code[err.code] },
    headers,
  };
}

/** A REST error built directly, for failures found before any RPC (bad JSON, size limits, routing). */
export function restError(status: number, code: Code, message: string, headers: Record<string, string> = {}): RestError {
  return { status, body: { code: codeToString(code), message }, headers };
}
