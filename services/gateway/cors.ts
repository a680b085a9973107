import { cors as connectCors } from "@connectrpc/connect";
import type { HttpRequest, HttpResponse } from "./http-io.js";

const ALLOWED_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"];
const ALLOWED_HEADERS = [...new Set([...connectCors.allowedHeaders, "Authorization", "Accept", "X-Request-Id"])];
const EXPOSED_HEADERS = [...new Set([...connectCors.exposedHeaders, "X-Request-Id", "X-Process-Time", "Retry-After"])];
const PREFLIGHT_MAX_AGE_SECONDS = 7200;

export interface Cors {
  /**
   * Adds CORS headers for an allowed origin. Answers preflights itself (204, or 403 for an origin
   * not on the list) and then returns true: the request is done.
   */
  handle(req: HttpRequest, res: HttpResponse): boolean;
}

/**
 * CORS from an allowlist (CORS_ORIGINS). Listed origins are echoed back with credentials allowed;
 * `*` allows any origin but never with credentials, as the Fetch standard demands. With an empty
 * list no CORS headers are sent and browsers keep to same-origin.
 */
export function createCors(origins: readonly string[]): Cors {
  const anyOrigin = origins.includes("*");
  const listed = new Set(origins.filter((o) => o !== "*"));
  return {
    handle(req, res) {
      const origin = header(req, "origin");
      const preflight = req.method === "OPTIONS" && header(req, "access-control-request-method") !== undefined;
      if (origin === undefined) return false;
      res.setHeader("vary", "Origin");
      const allowed = listed.has(origin) || anyOrigin;
      if (allowed) {
        if (listed.has(origin)) {
          res.setHeader("access-control-allow-origin", origin);
          res.setHeader("access-control-allow-credentials", "true");
        } else {
          res.setHeader("access-control-allow-origin", "*");
        }
        res.setHeader("access-control-expose-headers", EXPOSED_HEADERS.join(", "));
      }
      if (!preflight) return false;
      if (!allowed) {
        res.writeHead(403, { "content-type": "application/json; charset=utf-8" });
        res.end(JSON.stringify({ code: "permission_denied", message: `origin ${origin} is not allowed (CORS_ORIGINS)` }));
        return true;
      }
      res.writeHead(204, {
        "access-control-allow-methods": ALLOWED_METHODS.join(", "),
        "access-control-allow-headers": ALLOWED_HEADERS.join(", "),
        "access-control-max-age": String(PREFLIGHT_MAX_AGE_SECONDS),
        "content-length": "0",
      });
      res.end();
      return true;
    },
  };
}

function header(req: HttpRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
