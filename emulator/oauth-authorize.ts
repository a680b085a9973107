// accounts.google.com/o/oauth2/v2/auth (reference §4.1). Problems with the client or the
// redirect URI are shown as an error page (Google never redirects to an unverified URI);
// the user's decision travels back to the redirect URI with code, state, scope, authuser, prompt.
import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { authorizeErrorPage, consentPage } from "./consent-page.js";
import type { EmulatorContext } from "./context.js";
import { BadJsonError, parseParams, readBody, redirect, sendHtml } from "./http-io.js";
import type { AuthorizationRequest } from "./oauth-store.js";

const CONSENT_TTL_MS = 10 * 60_000;
const BASIC_SCOPES = new Set(["openid", "email", "profile"]);
const PROMPTS = new Set(["none", "consent", "select_account"]);
const PKCE_VALUE = /^[A-Za-z0-9\-._~]{43,128}$/;

class PageError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
  ) {
    super(description);
  }
}

interface Parsed {
  request: AuthorizationRequest;
  state?: string;
  promptNone: boolean;
}

function parseRequest(ctx: EmulatorContext, q: URLSearchParams): Parsed {
  const get = (name: string) => q.get(name) ?? undefined;
  const need = (name: string) => {
    const v = get(name);
    if (!v) throw new PageError(400, "invalid_request", `Missing required parameter: ${name}`);
    return v;
  };
  const clientId = need("client_id");
  if (!ctx.oauth.clientKnown(clientId)) throw new PageError(401, "invalid_client", "The OAuth client was not found.");
  const redirectUri = need("redirect_uri");
  let target: URL | undefined;
  try {
    target = new URL(redirectUri);
  } catch {
    target = undefined;
  }
  // Any http(s) URI is accepted for a known client; the token exchange must repeat it exactly.
  if (!target || (target.protocol !== "http:" && target.protocol !== "https:") || target.hash !== "") {
    throw new PageError(
      400,
      "redirect_uri_mismatch",
      "You can't sign in to this app because it doesn't comply with Google's OAuth 2.0 policy.",
    );
  }
  const responseType = need("response_type");
  if (responseType !== "code") throw new PageError(400, "unsupported_response_type", `Invalid response_type: ${responseType}`);
  const scopes = need("scope").split(/\s+/).filter(Boolean);
  const invalid = scopes.filter((s) => !BASIC_SCOPES.has(s) && !s.startsWith("https://www.googleapis.com/auth/"));
  if (invalid.length > 0)
    throw new PageError(400, "invalid_scope", `Some requested scopes were invalid. {invalid=[${invalid.join(", ")}]}`);

  const accessType = get("access_type") ?? "online";
  if (accessType !== "online" && accessType !== "offline")
    throw new PageError(400, "invalid_request", `Invalid access_type: ${accessType}`);
  const prompts = (get("prompt") ?? "").split(/\s+/).filter(Boolean);
  if (prompts.some((p) => !PROMPTS.has(p)) || (prompts.includes("none") && prompts.length > 1)) {
    throw new PageError(400, "invalid_request", `Invalid prompt: ${get("prompt")}`);
  }
  const request: AuthorizationRequest = {
    clientId,
    redirectUri,
    scopes,
    accessType,
    forceConsent: prompts.includes("consent"),
    includeGrantedScopes: get("include_granted_scopes") === "true",
  };
  const challenge = get("code_challenge");
  if (challenge !== undefined) {
    const method = get("code_challenge_method") ?? "plain";
    if (method !== "S256" && method !== "plain") throw new PageError(400, "invalid_request", "Invalid code_challenge_method value.");
    if (!PKCE_VALUE.test(challenge)) throw new PageError(400, "invalid_request", "Invalid code_challenge value.");
    request.codeChallenge = challenge;
    request.codeChallengeMethod = method;
  }
  const state = get("state");
  return state === undefined ? { request, promptNone: prompts.includes("none") } : { request, state, promptNone: prompts.includes("none") };
}

export function createAuthorizeHandler(ctx: EmulatorContext) {
  const pending = new Map<string, Parsed & { expiresAt: number }>();

  function back(res: ServerResponse, p: Parsed, params: Record<string, string>): void {
    const target = new URL(p.request.redirectUri);
    if (p.state !== undefined) target.searchParams.set("state", p.state);
    for (const [k, v] of Object.entries(params)) target.searchParams.set(k, v);
    redirect(res, target.toString());
  }

  function approve(res: ServerResponse, p: Parsed): void {
    const { code, scopes } = ctx.oauth.issueCode(p.request);
    // Google appends authuser and prompt after code and scope (observed, reference §4.1).
    back(res, p, { code, scope: scopes.join(" "), authuser: "0", prompt: "consent" });
  }

  async function decide(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const form = parseParams(await readBody(req), req.headers["content-type"]);
    const id = form.get("consent_id") ?? "";
    const entry = pending.get(id);
    pending.delete(id);
    if (!entry || entry.expiresAt <= ctx.now())
      throw new PageError(400, "invalid_request", "This sign-in request has expired. Start again from the app.");
    if (form.get("decision") === "allow") return approve(res, entry);
    back(res, entry, { error: "access_denied" });
  }

  return async function authorize(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    try {
      if (req.method === "POST") {
        ctx.stats.request("authorize", undefined);
        return await decide(req, res);
      }
      const clientId = url.searchParams.get("client_id");
      ctx.stats.request("authorize", clientId && ctx.oauth.clientKnown(clientId) ? clientId : undefined);
      const parsed = parseRequest(ctx, url.searchParams);
      if (parsed.promptNone) {
        const granted = new Set(ctx.oauth.grantedScopes(parsed.request.clientId));
        return parsed.request.scopes.every((s) => granted.has(s)) ? approve(res, parsed) : back(res, parsed, { error: "consent_required" });
      }
      if (ctx.config.autoApprove) return approve(res, parsed);

      for (const [k, v] of pending) if (v.expiresAt <= ctx.now()) pending.delete(k);
      const consentId = randomBytes(18).toString("base64url");
      pending.set(consentId, { ...parsed, expiresAt: ctx.now() + CONSENT_TTL_MS });
      const html = consentPage({
        consentId,
        clientId: parsed.request.clientId,
        redirectHost: new URL(parsed.request.redirectUri).host,
        scopes: parsed.request.scopes,
      });
      sendHtml(res, 200, html);
    } catch (e) {
      if (e instanceof PageError) return sendHtml(res, e.status, authorizeErrorPage(e.status, e.error, e.description));
      if (e instanceof BadJsonError) return sendHtml(res, 400, authorizeErrorPage(400, "invalid_request", e.message));
      throw e;
    }
  };
}
