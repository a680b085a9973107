/**
 * One error type for every failed Google call (the fetcher's API calls and the TokenService's
 * OAuth calls alike), already classified, so callers branch on `kind`
 * and never on message text. The message is built from the HTTP status and Google's own error
 * status/message only: the request (and its Authorization header) never reaches it.
 */
export type GoogleErrorKind =
  /** Retry later with backoff: 408, 429, 5xx, timeouts, network failures. */
  | "transient"
  /** Retrying cannot help: 400, 403, 404 and other 4xx. */
  | "permanent"
  /** 401: the token was refused. Callers refresh once and retry; after that it is permanent. */
  | "unauthenticated"
  /** Our own AbortSignal fired (shutdown): neither a success nor a failure of the task. */
  | "aborted";

export class GoogleApiError extends Error {
  constructor(
    readonly kind: GoogleErrorKind,
    /** HTTP status of Google's answer; 0 when there was none (network, timeout). */
    readonly httpStatus: number,
    /** A gRPC-style code name: Google's `error.status` when it sent one, else derived from the status. */
    readonly code: string,
    message: string,
    /**
     * The OAuth endpoints' own answer (`{"error": "invalid_grant", "error_description": …}`), or
     * for a failure with no answer the network or timeout code: what the TokenService tells
     * invalid_grant from invalid_client by. Google's description is redacted by whoever logs it.
     */
    readonly oauth: { error?: string; description?: string; networkCode?: string } = {},
  ) {
    super(message);
    this.name = "GoogleApiError";
  }

  /** True for Google's quota answer (429 RESOURCE_EXHAUSTED): the project must slow down. */
  get rateLimited(): boolean {
    return this.httpStatus === 429;
  }
}

const TRANSIENT_STATUSES = new Set([408, 429, 500, 502, 503, 504]);
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EAI_AGAIN",
  "ENOTFOUND",
  "ENETUNREACH",
  "EHOSTUNREACH",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "ECONNABORTED",
]);

const STATUS_CODE_NAMES: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  408: "DEADLINE_EXCEEDED",
  409: "ABORTED",
  429: "RESOURCE_EXHAUSTED",
  500: "INTERNAL",
  502: "UNAVAILABLE",
  503: "UNAVAILABLE",
  504: "DEADLINE_EXCEEDED",
};

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  status?: unknown;
  message?: unknown;
  response?: { status?: unknown; data?: unknown };
  cause?: unknown;
}

/** Turns whatever gaxios/googleapis threw into a GoogleApiError. `what` names the call, e.g. `reviews.list`. */
export function classifyGoogleError(err: unknown, what: string, signal?: AbortSignal): GoogleApiError {
  if (err instanceof GoogleApiError) return err;
  const e = (err ?? {}) as ErrorLike;
  if (signal?.aborted) return new GoogleApiError("aborted", 0, "CANCELLED", `${what}: aborted`);
  const status = typeof e.response?.status === "number" ? e.response.status : typeof e.status === "number" ? e.status : 0;
  if (status > 0) {
    const google = googleErrorBody(e.response?.data);
    const code = google.status ?? STATUS_CODE_NAMES[status] ?? (status >= 500 ? "UNAVAILABLE" : "UNKNOWN");
    const kind = status === 401 ? "unauthenticated" : TRANSIENT_STATUSES.has(status) || status >= 500 ? "transient" : "permanent";
    const detail = google.message ? `: ${google.message}` : "";
    return new GoogleApiError(kind, status, code, truncate(`${what}: HTTP ${status} ${code}${detail}`), {
      error: google.oauthError,
      description: google.oauthError ? google.message : undefined,
    });
  }
  const code = typeof e.code === "string" ? e.code : "";
  const name = typeof e.name === "string" ? e.name : "";
  const networkCode = code || name || "network_error";
  if (name === "AbortError" || name === "TimeoutError" || code === "ABORT_ERR" || /timeout/i.test(code)) {
    return new GoogleApiError("transient", 0, "DEADLINE_EXCEEDED", `${what}: timed out`, { networkCode });
  }
  if (NETWORK_CODES.has(code)) return new GoogleApiError("transient", 0, "UNAVAILABLE", `${what}: network error ${code}`, { networkCode });
  // Unknown failures (a malformed body, a library surprise) are retried: JetStream bounds the
  // attempts and the last one dead-letters, so nothing loops forever.
  return new GoogleApiError("transient", 0, "UNKNOWN", `${what}: request failed${code ? ` (${code})` : ""}`, { networkCode });
}

/** Google's `{"error": {"code", "message", "status"}}` body (or the OAuth `{"error": "...", "error_description"}` one). */
function googleErrorBody(data: unknown): { status?: string; message?: string; oauthError?: string } {
  let body = data;
  if (typeof body === "string") {
    try {
      body = JSON.parse(body);
    } catch {
      return {};
    }
  }
  const error = (body as { error?: unknown; error_description?: unknown } | undefined)?.error;
  if (error && typeof error === "object") {
    const { status, message } = error as { status?: unknown; message?: unknown };
    return { status: typeof status === "string" ? status : undefined, message: typeof message === "string" ? message : undefined };
  }
  if (typeof error === "string") {
    const description = (body as { error_description?: unknown }).error_description;
    return { status: error.toUpperCase(), message: typeof description === "string" ? description : undefined, oauthError: error };
  }
  return {};
}

function truncate(text: string): string {
  return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}
