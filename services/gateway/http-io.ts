import { Code } from "@connectrpc/connect";
import type { Logger } from "../../lib/log/index.js";
import { toConnectError, type RpcServer } from "../../lib/rpc/index.js";
import { restError, restErrorOf, type RestError } from "../../lib/rest/index.js";

/** Node's request and response, HTTP/1.1 or HTTP/2, as connect-node types them (write and writeHead unified). */
export type HttpRequest = Parameters<RpcServer["handler"]>[0];
export type HttpResponse = Parameters<RpcServer["handler"]>[1];

export function sendJson(res: HttpResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    "content-type": "application/json; charset=utf-8",
    "content-length": String(Buffer.byteLength(text)),
  });
  res.end(text);
}

export function sendError(res: HttpResponse, error: RestError): void {
  if (res.headersSent) {
    // a streamed answer already started: the connection is all we can still end
    res.end();
    return;
  }
  sendJson(res, error.status, error.body, error.headers);
}

/** Any thrown value as the REST error a caller may see; anything unexpected is logged and shown as "internal error". */
export function restErrorFrom(err: unknown, logger?: Logger): RestError {
  return err instanceof RestFailure ? err.error : restErrorOf(toConnectError(err, logger));
}

/** A failure found by the HTTP layer itself (size, media type, JSON syntax), with its own HTTP status. */
export class RestFailure extends Error {
  constructor(readonly error: RestError) {
    super(error.body.message);
  }
}

export function bodyTooLarge(limit: number): RestFailure {
  return new RestFailure(restError(413, Code.ResourceExhausted, `request body exceeds the limit of ${limit} bytes`));
}

/**
 * Reads and parses a JSON body, refusing more than `limit` bytes (413), another media type (415)
 * and malformed JSON (400, with the parser's reason). An empty body is `undefined`.
 */
export async function readJsonBody(req: HttpRequest, limit: number): Promise<unknown> {
  const type = String(req.headers["content-type"] ?? "")
    .split(";")[0]
    .trim()
    .toLowerCase();
  // Only JSON media types. Not text/plain (what fetch() sends for a bare string body) nor forms:
  // those are the types a browser may send cross-site without a CORS preflight, so taking them
  // as JSON would let any web page post to an API on a logged-in browser's behalf.
  if (type && type !== "application/json" && !/^application\/[\w.+-]+\+json$/.test(type)) {
    throw new RestFailure(
      restError(415, Code.InvalidArgument, `request body must be JSON: send it with Content-Type: application/json (got ${type})`),
    );
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= limit) chunks.push(chunk);
    // keep draining a modestly oversized body so the client can read the 413; cut off abuse
    else if (size > limit * 8) {
      req.destroy();
      break;
    }
  }
  if (size > limit) throw bodyTooLarge(limit);
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new RestFailure(restError(400, Code.InvalidArgument, `malformed JSON body: ${(err as Error).message}`));
  }
}

/** True when the client asked for JSON rather than a page (an `Accept` naming JSON and not HTML). */
export function wantsJson(req: HttpRequest): boolean {
  const accept = String(req.headers.accept ?? "").toLowerCase();
  return accept.includes("application/json") && !accept.includes("text/html");
}
