// Small node:http helpers: bodies in, JSON/HTML/redirects out. Writes are no-ops once the
// client has gone away (a latency fault can outlive the connection).
import type { IncomingMessage, ServerResponse } from "node:http";

export const MAX_BODY_BYTES = 1 << 20;

export class BodyTooLargeError extends Error {
  constructor() {
    super("request body too large");
  }
}

export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > limit) throw new BodyTooLargeError();
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString("utf8");
}

export class BadJsonError extends Error {}

/** Parses a JSON object body; an empty body is `{}`. */
export function parseJsonObject(body: string): Record<string, unknown> {
  if (body.trim() === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new BadJsonError("body is not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new BadJsonError("body must be a JSON object");
  return value as Record<string, unknown>;
}

/**
 * OAuth endpoints take form bodies (RFC 6749); Google also accepts JSON. Repeated keys keep the
 * first value. Non-string JSON values are stringified, as Google's form binding would see them.
 */
export function parseParams(body: string, contentType: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if ((contentType ?? "").toLowerCase().includes("application/json")) {
    for (const [k, v] of Object.entries(parseJsonObject(body))) if (v !== null && v !== undefined) out.set(k, String(v));
    return out;
  }
  for (const [k, v] of new URLSearchParams(body)) if (!out.has(k)) out.set(k, v);
  return out;
}

function writable(res: ServerResponse): boolean {
  return !res.headersSent && !res.destroyed && !res.writableEnded;
}

/**
 * Responses to requests that said `prettyPrint=false`. Google indents its JSON unless asked not
 * to (a system parameter of every Google API, default true); the fetcher asks, and a page of 50
 * reviews is then about 15 % smaller.
 */
const compactResponses = new WeakSet<ServerResponse>();

export function honourPrettyPrint(url: URL, res: ServerResponse): void {
  if (url.searchParams.get("prettyPrint") === "false") compactResponses.add(res);
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (!writable(res)) return;
  const text = compactResponses.has(res) ? JSON.stringify(body) : JSON.stringify(body, null, 2);
  res.writeHead(status, {
    "Content-Type": "application/json; charset=UTF-8",
    "Content-Length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export function sendHtml(res: ServerResponse, status: number, html: string, headers: Record<string, string> = {}): void {
  if (!writable(res)) return;
  res.writeHead(status, {
    "Content-Type": "text/html; charset=utf-8",
    "Content-Length": Buffer.byteLength(html),
    "Cache-Control": "no-cache, no-store, max-age=0, must-revalidate",
    ...headers,
  });
  res.end(html);
}

export function redirect(res: ServerResponse, location: string): void {
  if (!writable(res)) return;
  const html = `<html><body>Moved to <a href="${escapeHtml(location)}">${escapeHtml(location)}</a></body></html>`;
  res.writeHead(302, { Location: location, "Content-Type": "text/html; charset=utf-8", "Content-Length": Buffer.byteLength(html) });
  res.end(html);
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Resolves after `ms`, or at once when the emulator is shutting down. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
