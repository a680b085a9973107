// The console's one way to the gateway: the ordinary REST API, same origin, with the session
// cookie the browser sends by itself and the session's CSRF token in a header on every call.

export interface Session {
  key_id: string;
  role: "admin" | "operator" | "reader" | "service";
  tenant_id: string;
  csrf_token: string;
  expire_time: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

let csrfToken = "";
let onSignedOut: () => void = () => undefined;

export function useSession(session: Session | undefined, signedOut: () => void): void {
  csrfToken = session?.csrf_token ?? "";
  onSignedOut = signedOut;
}

export async function api<T>(method: "GET" | "POST" | "DELETE" | "PATCH", path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  // sent on every call: the server checks it on those that change something (and on login links)
  if (csrfToken) headers["x-csrf-token"] = csrfToken;
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(path, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 204) return undefined as T;
  const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) {
    if (res.status === 401 && path !== "/console/session") onSignedOut();
    throw new ApiError(res.status, String(json.code ?? "unknown"), String(json.message ?? `the gateway answered ${res.status}`));
  }
  return json as T;
}

/** A query string from the filters that are set. */
export function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== "") q.set(key, String(value));
  const text = q.toString();
  return text ? `?${text}` : "";
}

export const canWrite = (s: Session) => s.role === "admin" || s.role === "operator";
export const canRunJobs = (s: Session) => s.role === "admin" || s.role === "operator" || s.role === "service";
export const isAdmin = (s: Session) => s.role === "admin";
