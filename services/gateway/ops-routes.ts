import { createDocsRoutes } from "./docs-routes.js";
import { requestState } from "./edge.js";
import { sendJson, type HttpRequest, type HttpResponse } from "./http-io.js";
import type { Readiness } from "./readiness.js";

/**
 * `/health` (the process answers), `/ready` (its dependencies do), `/openapi.json` and `/docs`
 * (that document in Swagger UI). No key needed: probes and documentation readers have none.
 * (`/metrics` is served by lib/rpc.)
 * Resolves false for any other path.
 */
export function createOpsRoutes(deps: { readiness: Readiness; openApi: Record<string, unknown>; isClosing: () => boolean }) {
  const openApiText = JSON.stringify(deps.openApi);
  const docs = createDocsRoutes();
  return async (req: HttpRequest, res: HttpResponse): Promise<boolean> => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") return false;
    switch (path) {
      case "/health":
        requestState(req).route = path;
        sendJson(res, 200, { status: "ok" });
        return true;
      case "/ready": {
        requestState(req).route = path;
        if (deps.isClosing()) {
          sendJson(res, 503, { status: "shutting_down", checks: {} });
          return true;
        }
        const { ready, checks } = await deps.readiness.check();
        sendJson(res, ready ? 200 : 503, { status: ready ? "ready" : "not_ready", checks });
        return true;
      }
      case "/openapi.json":
        requestState(req).route = path;
        res.writeHead(200, { "content-type": "application/json; charset=utf-8", "content-length": String(Buffer.byteLength(openApiText)) });
        res.end(openApiText);
        return true;
      default:
        return docs(req, res);
    }
  };
}
