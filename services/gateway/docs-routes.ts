import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { requestState } from "./edge.js";
import type { HttpRequest, HttpResponse } from "./http-io.js";

/**
 * `/docs`: the gateway's OpenAPI document (/openapi.json) rendered by Swagger UI, whose files
 * come from the swagger-ui-dist package in node_modules: same origin as the API (no CORS), no
 * CDN (works offline). The page and its start-up script (docs/init.js, a file so that no inline
 * script is needed) are revalidated on every load (ETag); Swagger UI's own files sit under a path
 * carrying the package's version, so a browser keeps them for a year and an upgrade changes the URL.
 * Resolves false for any other path.
 */
export function createDocsRoutes(): (req: HttpRequest, res: HttpResponse) => boolean {
  const require = createRequire(import.meta.url);
  const distDir = path.dirname(require.resolve("swagger-ui-dist/package.json"));
  const version = (JSON.parse(readFileSync(path.join(distDir, "package.json"), "utf8")) as { version: string }).version;
  const assetBase = `/docs/swagger-ui/${version}/`;

  /** What the page may load: only this origin's scripts, styles, images (Swagger UI's icons are data: URIs) and API. */
  const csp = [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");

  const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>reviewflow gateway · API docs</title>
<link rel="stylesheet" href="${assetBase}swagger-ui.css">
<link rel="icon" type="image/png" href="${assetBase}favicon-32x32.png" sizes="32x32">
</head>
<body>
<div id="swagger-ui"><noscript>The API docs need JavaScript; the raw document is at <a href="/openapi.json">/openapi.json</a>.</noscript></div>
<script src="${assetBase}swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`;

  /** One served file; `gzipped` is made on first use by a client that takes gzip. */
  interface File {
    body: Buffer;
    gzipped?: Buffer;
    type: string;
    etag: string;
    cacheControl: string;
  }
  const file = (body: Buffer, type: string, cacheControl: string): File => ({
    body,
    type,
    etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`,
    cacheControl,
  });
  const REVALIDATE = "no-cache";
  const IMMUTABLE = "public, max-age=31536000, immutable";
  /** The dist files the page uses (and their source maps, for a curious developer's tools). */
  const ASSETS: Record<string, string> = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui.css.map": "application/json",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui-bundle.js.map": "application/json",
    "favicon-32x32.png": "image/png",
  };
  const files = new Map<string, () => File>();
  const lazy = (make: () => File) => {
    let made: File | undefined;
    return () => (made ??= make());
  };
  files.set(
    "/docs",
    lazy(() => file(Buffer.from(page), "text/html; charset=utf-8", REVALIDATE)),
  );
  files.set(
    "/docs/init.js",
    lazy(() => file(readFileSync(new URL("./docs/init.js", import.meta.url)), "text/javascript; charset=utf-8", REVALIDATE)),
  );
  for (const [name, type] of Object.entries(ASSETS)) {
    files.set(
      `${assetBase}${name}`,
      lazy(() => file(readFileSync(path.join(distDir, name)), type, IMMUTABLE)),
    );
  }

  return (req, res) => {
    const urlPath = (req.url ?? "/").split("?")[0];
    if (urlPath === "/docs/") {
      if (req.method !== "GET" && req.method !== "HEAD") return false;
      requestState(req).route = "/docs";
      res.writeHead(308, { location: "/docs", "content-length": "0" });
      res.end();
      return true;
    }
    const found = files.get(urlPath);
    if (!found || (req.method !== "GET" && req.method !== "HEAD")) return false;
    requestState(req).route = urlPath.startsWith(assetBase) ? "/docs/swagger-ui/{file}" : urlPath;
    const f = found();
    const gzip = /\bgzip\b/.test(String(req.headers["accept-encoding"] ?? "")) && !f.type.startsWith("image/");
    // each encoding is its own representation, with its own tag
    const etag = gzip ? `${f.etag.slice(0, -1)}-gz"` : f.etag;
    const headers: Record<string, string> = {
      "content-type": f.type,
      "cache-control": f.cacheControl,
      etag,
      vary: "accept-encoding",
      "x-content-type-options": "nosniff",
    };
    if (f.type.startsWith("text/html")) {
      Object.assign(headers, { "content-security-policy": csp, "referrer-policy": "no-referrer", "x-frame-options": "DENY" });
    }
    if (
      String(req.headers["if-none-match"] ?? "")
        .split(",")
        .some((tag) => tag.trim().replace(/^W\//, "") === etag)
    ) {
      res.writeHead(304, headers);
      res.end();
      return true;
    }
    let body = f.body;
    if (gzip) {
      body = f.gzipped ??= gzipSync(f.body, { level: 9 });
      headers["content-encoding"] = "gzip";
    }
    headers["content-length"] = String(body.length);
    res.writeHead(200, headers);
    if (req.method === "HEAD") res.end();
    else res.end(body);
    return true;
  };
}
