// The operator console's own routes: the page, its script and stylesheet, and sign-in/sign-out
// (an API key exchanged for a session cookie). Everything else the console shows comes from the
// ordinary REST API, called with that cookie (session-auth.ts).
import { Code } from "@connectrpc/connect";
import { isSessionToken, type ConsoleSessionStore } from "../../../lib/auth/index.js";
import { restError } from "../../../lib/rest/index.js";
import { requestState } from "../edge.js";
import type { Gate } from "../gate.js";
import { readJsonBody, restErrorFrom, RestFailure, sendError, sendJson, type HttpRequest, type HttpResponse } from "../http-io.js";
import { consoleAssets, type Asset } from "./bundle.js";
import { CSRF_HEADER, header, SESSION_COOKIE, sessionTokenOf } from "./session-auth.js";
import type { Logger } from "../../../lib/log/index.js";

/** No inline script or style, nothing from another origin: data from Google can never run. */
export const CONSOLE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>reviewflow console</title>
<link rel="stylesheet" href="/console/app.css">
<script type="module" src="/console/app.js"></script>
</head><body><div id="app"><p class="loading">Loading the console…</p></div>
<noscript>The reviewflow console needs JavaScript.</noscript>
</body></html>
`;

export interface ConsoleRoutesDeps {
  gate: Gate;
  sessions: ConsoleSessionStore;
  /** PUBLIC_URL: the cookie is Secure when it is https (TLS ends in front of the gateway). */
  publicUrl: string;
  ttlMs: number;
  bodyLimitBytes: number;
  logger: Logger;
}

/** Resolves true when it answered the request. */
export function createConsoleRoutes(deps: ConsoleRoutesDeps): (req: HttpRequest, res: HttpResponse) => Promise<boolean> {
  const secure = deps.publicUrl.startsWith("https:");
  const cookie = (value: string, maxAgeSeconds: number) =>
    `${SESSION_COOKIE}=${value}; Path=/; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Strict${secure ? "; Secure" : ""}`;

  const sessionRoute = async (req: HttpRequest, res: HttpResponse) => {
    res.setHeader("cache-control", "no-store");
    const method = req.method ?? "GET";
    if (method === "POST") {
      // sign-in: only from a page of this origin, with a JSON body (a cross-site form cannot send one)
      if (header(req, "sec-fetch-site") === "cross-site")
        throw new RestFailure(restError(403, Code.PermissionDenied, "sign in from the console's own page"));
      const type = (header(req, "content-type") ?? "").split(";")[0].trim().toLowerCase();
      if (type !== "application/json")
        throw new RestFailure(
          restError(415, Code.InvalidArgument, 'send the API key as JSON: {"api_key": "…"} with Content-Type: application/json'),
        );
      const body = (await readJsonBody(req, deps.bodyLimitBytes)) as { api_key?: unknown } | undefined;
      const key = typeof body?.api_key === "string" ? body.api_key.trim() : "";
      if (!key || isSessionToken(key))
        throw new RestFailure(restError(400, Code.InvalidArgument, "enter an API key (it starts with rfk_)"));
      // the gate checks the key and spends the same budgets an API call would (and the address's on failure)
      const caller = await deps.gate.admit({ authorization: `Bearer ${key}`, ip: requestState(req).ip });
      if (!caller) throw new RestFailure(restError(401, Code.Unauthenticated, "invalid or revoked API key"));
      const { token, session } = await deps.sessions.create(caller);
      res.setHeader("set-cookie", cookie(token, Math.floor(deps.ttlMs / 1000)));
      deps.logger.info("console sign-in", { key_id: caller.keyId, role: caller.role, tenant_id: caller.tenantId });
      return sendJson(res, 200, describe(session));
    }
    const token = sessionTokenOf(req);
    const session = token ? await deps.sessions.lookup(token) : undefined;
    if (method === "GET") {
      if (!session) throw new RestFailure(restError(401, Code.Unauthenticated, "not signed in"));
      return sendJson(res, 200, describe(session));
    }
    if (method === "DELETE") {
      if (session && token) {
        if (header(req, "sec-fetch-site") === "cross-site" || header(req, CSRF_HEADER) !== session.csrfToken) {
          throw new RestFailure(restError(403, Code.PermissionDenied, `signing out needs the session's ${CSRF_HEADER} header`));
        }
        await deps.sessions.end(token);
      }
      res.setHeader("set-cookie", cookie("", 0));
      res.writeHead(204, { "content-length": "0" });
      return res.end();
    }
    throw new RestFailure(
      restError(405, Code.Unimplemented, `${method} is not allowed on /console/session; use GET, POST, DELETE`, {
        allow: "GET, POST, DELETE",
      }),
    );
  };

  return async (req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const method = req.method ?? "GET";
    if (path === "/" && (method === "GET" || method === "HEAD")) {
      res.writeHead(302, { location: "/console", "content-length": "0" });
      res.end();
      return true;
    }
    if (path !== "/console" && !path.startsWith("/console/")) return false;
    requestState(req).route = path === "/console/app.js" || path === "/console/app.css" || path === "/console/session" ? path : "/console";
    try {
      if (path === "/console/session") {
        await sessionRoute(req, res);
        return true;
      }
      if (method !== "GET" && method !== "HEAD")
        throw new RestFailure(restError(405, Code.Unimplemented, `${method} is not allowed on ${path}; use GET`, { allow: "GET, HEAD" }));
      if (path === "/console/app.js" || path === "/console/app.css") {
        const assets = await consoleAssets();
        sendAsset(req, res, path.endsWith(".js") ? assets.script : assets.style);
        return true;
      }
      // /console and any page below it (the console routes by #fragment; deep paths get the same page)
      res.writeHead(200, {
        "content-type": "text/html; charset=utf-8",
        "content-length": String(Buffer.byteLength(PAGE)),
        "cache-control": "no-cache",
        "content-security-policy": CONSOLE_CSP,
        "x-content-type-options": "nosniff",
        "x-frame-options": "DENY",
        "referrer-policy": "no-referrer",
      });
      if (method === "HEAD") res.end();
      else res.end(PAGE);
    } catch (err) {
      sendError(res, restErrorFrom(err, deps.logger));
    }
    return true;
  };
}

function describe(session: { caller: { keyId: string; role: string; tenantId: string | null }; csrfToken: string; expiresAt: Date }) {
  return {
    key_id: session.caller.keyId,
    role: session.caller.role,
    tenant_id: session.caller.tenantId ?? "",
    csrf_token: session.csrfToken,
    expire_time: session.expiresAt.toISOString(),
  };
}

function sendAsset(req: HttpRequest, res: HttpResponse, asset: Asset): void {
  const headers = { etag: asset.etag, "cache-control": "no-cache", "x-content-type-options": "nosniff", vary: "Accept-Encoding" };
  if (header(req, "if-none-match") === asset.etag) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  const gzip = /\bgzip\b/.test(header(req, "accept-encoding") ?? "");
  const body = gzip ? asset.gzipped : asset.body;
  res.writeHead(200, {
    ...headers,
    ...(gzip ? { "content-encoding": "gzip" } : {}),
    "content-type": asset.contentType,
    "content-length": String(body.length),
  });
  if (req.method === "HEAD") res.end();
  else res.end(body);
}
