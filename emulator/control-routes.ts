// HTTP face of the controls under /_emulator/. No auth (it is the test harness); bad JSON is a
// 400, an unknown path a 404, a wrong method a 405, and nothing here can crash the server.
import type { IncomingMessage, ServerResponse } from "node:http";
import { BadJsonError, parseJsonObject, readBody, sendJson } from "./http-io.js";
import { ControlError, type EmulatorControls } from "./types.js";

type Body = Record<string, unknown>;
type Op = (body: Body) => unknown;

/** Routes by "METHOD path" after /_emulator. */
function routes(c: EmulatorControls): Map<string, Op> {
  const done =
    (fn: (b: Body) => void): Op =>
    (b) => {
      fn(b);
      return {};
    };
  return new Map<string, Op>([
    ["GET /stats", () => c.stats()],
    ["POST /stats/reset", done(() => c.resetStats())],
    ["GET /faults", () => ({ faults: c.listFaults() })],
    ["POST /faults", (b) => c.addFault(b as never)],
    ["DELETE /faults", done(() => c.clearFaults())],
    ["POST /quotas", done((b) => c.setQuota(b as never))],
    ["POST /quotas/reset", done(() => c.resetQuotaUsage())],
    ["POST /reviews/edit", (b) => c.editReview(b as never)],
    ["POST /reviews/add", (b) => c.addReview(b as never)],
    ["POST /reviews/delete", done((b) => c.deleteReview(b as never))],
    ["POST /tokens/expire", (b) => c.expireTokens(b)],
    ["POST /grants/revoke", (b) => c.revokeGrants(b)],
    ["POST /tokens/issue", (b) => c.issueTokens(b as never)],
    ["POST /config", (b) => c.configure(b)],
    ["GET /config", () => c.configure({})],
    ["GET /data", () => c.data()],
    ["GET /notifications", () => c.notifications()],
    ["POST /notifications", (b) => c.configureNotifications(b as never)],
  ]);
}

function sendControlError(res: ServerResponse, status: number, message: string): void {
  sendJson(res, status, { error: { code: status, message } });
}

export function createControlRoutes(controls: EmulatorControls) {
  const table = routes(controls);
  const knownPaths = new Set([...table.keys()].map((k) => k.slice(k.indexOf(" ") + 1)));

  return async function control(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const method = req.method ?? "GET";
    const sub = path.slice("/_emulator".length) || "/";
    try {
      const raw = await readBody(req);
      const faultId = /^\/faults\/([^/]+)$/.exec(sub)?.[1];
      if (faultId !== undefined && method === "DELETE") {
        return controls.removeFault(decodeURIComponent(faultId))
          ? sendJson(res, 200, {})
          : sendControlError(res, 404, `no fault ${faultId}`);
      }
      const op = table.get(`${method} ${sub}`);
      if (!op) {
        if (knownPaths.has(sub) || faultId !== undefined) return sendControlError(res, 405, `${method} not allowed on /_emulator${sub}`);
        return sendControlError(res, 404, `unknown control path /_emulator${sub}`);
      }
      const body = method === "GET" ? {} : parseJsonObject(raw);
      sendJson(res, 200, op(body) ?? {});
    } catch (e) {
      if (e instanceof BadJsonError) return sendControlError(res, 400, e.message);
      if (e instanceof ControlError) return sendControlError(res, e.status, e.message);
      throw e;
    }
  };
}
