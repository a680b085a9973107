// One port, Google's paths routed by shape (reference §2.3: both v1 APIs start with
// /v1/accounts, so the emulator tells them apart by what follows).
import type { IncomingMessage, ServerResponse } from "node:http";
import { listAccounts } from "./accounts-api.js";
import type { EmulatorContext } from "./context.js";
import { createControlRoutes } from "./control-routes.js";
import { BodyTooLargeError, escapeHtml, honourPrettyPrint, sendHtml, sendJson } from "./http-io.js";
import { listLocations } from "./locations-api.js";
import { createAuthorizeHandler } from "./oauth-authorize.js";
import { createTokenHandlers } from "./oauth-token.js";
import { batchGetReviews, getReview, listReviews } from "./reviews-api.js";
import { getNotificationSetting, updateNotificationSetting } from "./notifications-api.js";
import { internalError, sendRpcError } from "./rpc-errors.js";
import type { EmulatorControls } from "./types.js";

const LOCATIONS = /^\/v1\/accounts\/([^/:]+)\/locations$/;
const REVIEWS = /^\/v4\/accounts\/([^/:]+)\/locations\/([^/:]+)\/reviews$/;
const REVIEW = /^\/v4\/accounts\/([^/:]+)\/locations\/([^/:]+)\/reviews\/([^/:]+)$/;
const BATCH = /^\/v4\/accounts\/([^/:]+)\/locations:batchGetReviews$/;
const NOTIFICATION_SETTING = /^\/v1\/accounts\/([^/:]+)\/notificationSetting$/;

/** Google's front end answers unknown URLs (and wrong methods) with this HTML 404. */
function googleNotFound(res: ServerResponse, path: string): void {
  sendHtml(
    res,
    404,
    `<!DOCTYPE html><html lang=en><meta charset=utf-8><title>Error 404 (Not Found)!!1</title><p><b>404.</b> <ins>That’s an error.</ins><p>The requested URL <code>${escapeHtml(path)}</code> was not found on this server.  <ins>That’s all we know.</ins>`,
  );
}

export function createRouter(ctx: EmulatorContext, controls: EmulatorControls) {
  const control = createControlRoutes(controls);
  const authorize = createAuthorizeHandler(ctx);
  const oauth = createTokenHandlers(ctx);

  async function dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://emulator.invalid");
    // The batch method's colon may arrive percent-encoded.
    const path = url.pathname.replace(/%3A/gi, ":");
    const method = req.method ?? "GET";
    honourPrettyPrint(url, res);

    if (path === "/_emulator" || path.startsWith("/_emulator/")) return control(req, res, path);
    if (path === "/o/oauth2/v2/auth" && (method === "GET" || method === "POST")) return authorize(req, res, url);
    if (path === "/token") return oauth.token(req, res);
    if (path === "/revoke" && (method === "GET" || method === "POST")) return oauth.revoke(req, res, url);
    if (path === "/tokeninfo" && (method === "GET" || method === "POST")) return oauth.tokenInfo(req, res, url);
    // The public keys of push JWTs, where Google serves its own (www.googleapis.com/oauth2/v3/certs).
    if (path === "/oauth2/v3/certs" && method === "GET")
      return sendJson(res, 200, await ctx.signer.jwks(), { "Cache-Control": "public, max-age=300" });

    if (method === "GET" && path === "/v1/accounts") return listAccounts(ctx, req, res, url);
    let m = LOCATIONS.exec(path);
    if (method === "GET" && m) return listLocations(ctx, req, res, url, decodeURIComponent(m[1] as string));
    m = REVIEWS.exec(path);
    if (method === "GET" && m)
      return listReviews(ctx, req, res, url, decodeURIComponent(m[1] as string), decodeURIComponent(m[2] as string));
    m = REVIEW.exec(path);
    if (method === "GET" && m) {
      const [accountId, locationId, reviewId] = m.slice(1).map((part) => decodeURIComponent(part as string)) as [string, string, string];
      return getReview(ctx, req, res, url, { accountId, locationId, reviewId });
    }
    m = NOTIFICATION_SETTING.exec(path);
    if (m && method === "GET") return getNotificationSetting(ctx, req, res, url, decodeURIComponent(m[1] as string));
    if (m && method === "PATCH") return updateNotificationSetting(ctx, req, res, url, decodeURIComponent(m[1] as string));
    m = BATCH.exec(path);
    if (method === "POST" && m) return batchGetReviews(ctx, req, res, url, decodeURIComponent(m[1] as string));
    googleNotFound(res, path);
  }

  /** Never lets a request crash the process: a bug becomes a 500 and a line on stderr. */
  return async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      await dispatch(req, res);
    } catch (e) {
      if (e instanceof BodyTooLargeError) return sendJson(res, 413, { error: { code: 413, message: e.message } }, { Connection: "close" });
      if (e instanceof URIError) return sendJson(res, 400, { error: { code: 400, message: "malformed URL encoding" } });
      process.stderr.write(
        `${JSON.stringify({ level: "error", msg: "google emulator handler failed", error: String((e as Error)?.stack ?? e) })}\n`,
      );
      sendRpcError(res, internalError());
    }
  };
}
