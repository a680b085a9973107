// google.rpc.Status errors as Google's API front end sends them (reference §3.1). Messages are
// the ones observed on real GBP responses; the legacy `errors[]` array is added where it was
// observed (readMask 400, v4 404, 503 backendError).
import type { ServerResponse } from "node:http";
import { sendJson } from "./http-io.js";

export interface RpcError {
  code: number;
  status: string;
  message: string;
  errors?: { message: string; domain: string; reason: string }[];
  details?: Record<string, unknown>[];
  headers?: Record<string, string>;
}

/** Google sends these on every API response; a faithful client must not depend on their absence. */
const API_HEADERS = { Vary: "Origin, X-Origin, Referer" };

export function sendRpcError(res: ServerResponse, err: RpcError): void {
  // Key order as Google writes it: code, message, errors, status, details.
  const error: Record<string, unknown> = { code: err.code, message: err.message };
  if (err.errors) error.errors = err.errors;
  error.status = err.status;
  if (err.details) error.details = err.details;
  sendJson(res, err.code, { error }, { ...API_HEADERS, ...err.headers });
}

export function sendApiJson(res: ServerResponse, body: unknown): void {
  sendJson(res, 200, body, API_HEADERS);
}

function errorInfo(reason: string, metadata: Record<string, string>): Record<string, unknown> {
  return { "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason, domain: "googleapis.com", metadata };
}

const UNAUTHENTICATED_MESSAGE =
  "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.";

export function unauthenticated(
  service: string,
  reason: "CREDENTIALS_MISSING" | "ACCESS_TOKEN_EXPIRED" | "ACCESS_TOKEN_TYPE_UNSUPPORTED",
): RpcError {
  return {
    code: 401,
    status: "UNAUTHENTICATED",
    message: UNAUTHENTICATED_MESSAGE,
    details: [errorInfo(reason, { service })],
    headers: { "WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"' },
  };
}

export function insufficientScopes(service: string): RpcError {
  return {
    code: 403,
    status: "PERMISSION_DENIED",
    message: "Request had insufficient authentication scopes.",
    details: [errorInfo("ACCESS_TOKEN_SCOPE_INSUFFICIENT", { service })],
    headers: {
      "WWW-Authenticate":
        'Bearer realm="https://accounts.google.com/", error="insufficient_scope", scope="https://www.googleapis.com/auth/business.manage"',
    },
  };
}

export function permissionDenied(): RpcError {
  return { code: 403, status: "PERMISSION_DENIED", message: "The caller does not have permission" };
}

export function notFound(): RpcError {
  const message = "Requested entity was not found.";
  return { code: 404, status: "NOT_FOUND", message, errors: [{ message, domain: "global", reason: "notFound" }] };
}

/** A 400 with a BadRequest field violation, the shape of the observed readMask error. */
export function invalidArgument(field: string, description: string, message = "Request contains an invalid argument."): RpcError {
  return {
    code: 400,
    status: "INVALID_ARGUMENT",
    message,
    errors: [{ message, domain: "global", reason: "badRequest" }],
    details: [{ "@type": "type.googleapis.com/google.rpc.BadRequest", fieldViolations: [{ field, description }] }],
  };
}

/** Exactly the body observed when readMask is missing (reference §1.2). */
export function readMaskRequired(): RpcError {
  return invalidArgument("read_mask", "Field is required");
}

/** Google's front end rejects query parameters the method does not declare. */
export function unknownQueryParameter(name: string): RpcError {
  const message = `Invalid JSON payload received. Unknown name "${name}": Cannot bind query parameter. Field '${name}' could not be found in request message.`;
  return {
    code: 400,
    status: "INVALID_ARGUMENT",
    message,
    details: [{ "@type": "type.googleapis.com/google.rpc.BadRequest", fieldViolations: [{ description: message }] }],
  };
}

export function invalidInt(field: string, value: string): RpcError {
  const message = `Invalid value at '${field}' (TYPE_INT32), "${value}"`;
  return {
    code: 400,
    status: "INVALID_ARGUMENT",
    message,
    details: [{ "@type": "type.googleapis.com/google.rpc.BadRequest", fieldViolations: [{ field, description: message }] }],
  };
}

export interface QuotaFacts {
  service: string;
  projectNumber: string;
  limit: number;
}

/** The 429 a per-minute quota answers, with the ErrorInfo keys Google's quota system uses. */
export function resourceExhausted(q: QuotaFacts): RpcError {
  const metric = `${q.service}/default_requests`;
  return {
    code: 429,
    status: "RESOURCE_EXHAUSTED",
    message: `Quota exceeded for quota metric 'Requests' and limit 'Requests per minute' of service '${q.service}' for consumer 'project_number:${q.projectNumber}'.`,
    details: [
      errorInfo("RATE_LIMIT_EXCEEDED", {
        service: q.service,
        consumer: `projects/${q.projectNumber}`,
        quota_metric: metric,
        quota_limit: "DefaultRequestsPerMinutePerProject",
        quota_limit_value: String(q.limit),
        quota_location: "global",
      }),
      {
        "@type": "type.googleapis.com/google.rpc.Help",
        links: [{ description: "Request a higher quota limit.", url: "https://cloud.google.com/docs/quotas/help/request_increase" }],
      },
    ],
  };
}

export function internalError(): RpcError {
  return { code: 500, status: "INTERNAL", message: "Internal error encountered." };
}

export function unavailable(): RpcError {
  const message = "The service is currently unavailable.";
  return { code: 503, status: "UNAVAILABLE", message, errors: [{ message, domain: "global", reason: "backendError" }] };
}
