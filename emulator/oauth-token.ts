// oauth2.googleapis.com: /token (authorization_code and refresh_token grants), /revoke and
// /tokeninfo, with the RFC 6749 error shapes and no-cache headers of reference §4.3-§4.5.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { EmulatorContext } from "./context.js";
import { BadJsonError, parseParams, readBody, sendJson, sleep } from "./http-io.js";
import { OAuthError } from "./oauth-store.js";

const TOKEN_HEADERS = {
  "Content-Type": "application/json; charset=utf-8",
  "Cache-Control": "no-cache, no-store, max-age=0, must-revalidate",
  Pragma: "no-cache",
  Expires: "Mon, 01 Jan 1990 00:00:00 GMT",
};

function sendOAuth(res: ServerResponse, status: number, body: unknown): void {
  sendJson(res, status, body, TOKEN_HEADERS);
}

function sendOAuthError(res: ServerResponse, err: OAuthError): void {
  sendOAuth(res, err.status, { error: err.error, error_description: err.description });
}

async function readParams(req: IncomingMessage): Promise<Map<string, string>> {
  try {
    return parseParams(await readBody(req), req.headers["content-type"]);
  } catch (e) {
    if (e instanceof BadJsonError) throw new OAuthError(400, "invalid_request", "Invalid JSON payload received.");
    throw e;
  }
}

/** client_secret_basic: `Basic base64(urlencode(id):urlencode(secret))` (RFC 6749 §2.3.1). */
function basicCredentials(req: IncomingMessage): { id: string; secret: string } | undefined {
  const m = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? "");
  if (!m) return undefined;
  const decoded = Buffer.from(m[1] as string, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return undefined;
  try {
    return { id: decodeURIComponent(decoded.slice(0, colon)), secret: decodeURIComponent(decoded.slice(colon + 1)) };
  } catch {
    return { id: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
  }
}

function required(params: Map<string, string>, name: string): string {
  const v = params.get(name);
  if (v === undefined || v === "") throw new OAuthError(400, "invalid_request", `Missing required parameter: ${name}`);
  return v;
}

export function createTokenHandlers(ctx: EmulatorContext) {
  async function token(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== "POST") {
      ctx.stats.request("token", undefined);
      return sendOAuth(res, 405, { error: "invalid_request", error_description: "Only POST is supported." });
    }
    try {
      const params = await readParams(req);
      const basic = basicCredentials(req);
      const clientId = basic?.id ?? params.get("client_id");
      ctx.stats.request("token", clientId !== undefined && ctx.oauth.clientKnown(clientId) ? clientId : undefined);
      const { latencyMs, failure } = ctx.faults.roll("token");
      await sleep(latencyMs, ctx.shutdown);
      if (failure?.kind === "error") {
        return sendOAuth(res, failure.status, { error: "internal_failure", error_description: "Backend Error" });
      }
      if (!clientId) throw new OAuthError(400, "invalid_request", "Could not determine client ID from request.");
      ctx.oauth.authenticateClient(clientId, basic?.secret ?? params.get("client_secret"));

      const grantType = required(params, "grant_type");
      if (grantType === "authorization_code") {
        const body = ctx.oauth.exchangeCode({
          clientId,
          code: required(params, "code"),
          redirectUri: required(params, "redirect_uri"),
          codeVerifier: params.get("code_verifier"),
        });
        ctx.stats.grant(clientId, "authorization_code");
        return sendOAuth(res, 200, body);
      }
      if (grantType === "refresh_token") {
        const body = ctx.oauth.refresh({ clientId, refreshToken: required(params, "refresh_token") });
        ctx.stats.grant(clientId, "refresh_token");
        return sendOAuth(res, 200, body);
      }
      throw new OAuthError(400, "unsupported_grant_type", `Invalid grant_type: ${grantType}`);
    } catch (e) {
      if (e instanceof OAuthError) return sendOAuthError(res, e);
      throw e;
    }
  }

  /** POST (or GET) with `token` in the query or the form body. */
  async function revoke(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    try {
      const params = req.method === "POST" ? await readParams(req) : new Map<string, string>();
      const value = url.searchParams.get("token") ?? params.get("token");
      ctx.stats.request("revoke", value ? ctx.oauth.ownerOf(value) : undefined);
      if (!value) throw new OAuthError(400, "invalid_request", "Bad Request");
      ctx.oauth.revoke(value);
      ctx.stats.revocation();
      sendOAuth(res, 200, {});
    } catch (e) {
      if (e instanceof OAuthError) return sendOAuthError(res, e);
      throw e;
    }
  }

  /**
   * Google's fields, numbers as strings. google-auth-library's getTokenInfo POSTs with the token
   * as a Bearer header; others pass `access_token` in the query or body.
   */
  async function tokenInfo(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    try {
      const params = req.method === "POST" ? await readParams(req) : new Map<string, string>();
      const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? "")?.[1];
      const value = url.searchParams.get("access_token") ?? params.get("access_token") ?? bearer;
      const found = value ? ctx.oauth.lookupAccess(value) : undefined;
      ctx.stats.request("tokeninfo", found?.rec.clientId);
      if (!found?.valid) throw new OAuthError(400, "invalid_token", "Invalid Value");
      const { rec } = found;
      const expiresIn = Math.max(0, Math.floor((rec.expiresAt - ctx.now()) / 1000));
      sendOAuth(res, 200, {
        azp: rec.clientId,
        aud: rec.clientId,
        scope: rec.scopes.join(" "),
        exp: String(Math.floor(rec.expiresAt / 1000)),
        expires_in: String(expiresIn),
        access_type: rec.accessType,
      });
    } catch (e) {
      if (e instanceof OAuthError) return sendOAuthError(res, e);
      throw e;
    }
  }

  return { token, revoke, tokenInfo };
}
