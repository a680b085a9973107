// Google's OAuth bookkeeping for one emulated Google user: authorization codes, grants (one per
// user + client, as Google's "the whole grant for the project"), refresh and access tokens.
// Token values come from node:crypto and look like Google's (ya29. / 1// / 4/ prefixes).
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { ControlError, type EmulatorClient, type IssuedTokens } from "./types.js";

export const BUSINESS_SCOPE = "https://www.googleapis.com/auth/business.manage";
export const LEGACY_BUSINESS_SCOPE = "https://www.googleapis.com/auth/plus.business.manage";
/** The emulated Google user's subject id (the one person who consents). */
export const USER_ID = "108234917650392715463";
const CODE_TTL_MS = 10 * 60_000;
/** "a limit of 100 refresh tokens per Google Account per OAuth 2.0 client ID" (reference §4.6). */
export const REFRESH_TOKEN_CAP = 100;

/** An RFC 6749 error: `{"error", "error_description"}` with this HTTP status. */
export class OAuthError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
  ) {
    super(`${error}: ${description}`);
  }
}

export interface AuthorizationRequest {
  clientId: string;
  redirectUri: string;
  scopes: string[];
  accessType: "online" | "offline";
  forceConsent: boolean;
  includeGrantedScopes: boolean;
  codeChallenge?: string;
  codeChallengeMethod?: "S256" | "plain";
}

interface CodeRec extends AuthorizationRequest {
  expiresAt: number;
  used: boolean;
}

interface Grant {
  clientId: string;
  scopes: Set<string>;
  /** Live refresh tokens, oldest first. */
  refreshTokens: RefreshRec[];
  accessTokens: Set<string>;
}

interface RefreshRec {
  token: string;
  clientId: string;
  scopes: string[];
  live: boolean;
  grant: Grant;
}

export interface AccessRec {
  token: string;
  clientId: string;
  scopes: string[];
  expiresAt: number;
  accessType: "online" | "offline";
  grant: Grant;
}

export interface TokenResponse {
  access_token: string;
  expires_in: number;
  refresh_token?: string;
  scope: string;
  token_type: "Bearer";
}

function secretToken(prefix: string, bytes: number): string {
  return prefix + randomBytes(bytes).toString("base64url");
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export type OAuthStore = ReturnType<typeof createOAuthStore>;

export function createOAuthStore(clients: readonly EmulatorClient[], now: () => number, ttl: () => number) {
  const secrets = new Map(clients.map((c) => [c.id, c.secret]));
  const codes = new Map<string, CodeRec>();
  const grants = new Map<string, Grant>(); // by client id: there is one user
  const refreshTokens = new Map<string, RefreshRec>();
  const accessTokens = new Map<string, AccessRec>();

  function sweep(): void {
    const t = now();
    for (const [k, c] of codes) if (c.expiresAt <= t) codes.delete(k);
    for (const [k, a] of accessTokens) {
      if (a.expiresAt <= t) {
        accessTokens.delete(k);
        a.grant.accessTokens.delete(k);
      }
    }
  }

  function grantFor(clientId: string): Grant {
    let grant = grants.get(clientId);
    if (!grant) {
      grant = { clientId, scopes: new Set(), refreshTokens: [], accessTokens: new Set() };
      grants.set(clientId, grant);
    }
    return grant;
  }

  function issueAccess(grant: Grant, scopes: string[], accessType: AccessRec["accessType"]): AccessRec {
    if (accessTokens.size > 10_000) sweep();
    const rec: AccessRec = {
      token: secretToken("ya29.a0", 120),
      clientId: grant.clientId,
      scopes,
      expiresAt: now() + ttl() * 1000,
      accessType,
      grant,
    };
    accessTokens.set(rec.token, rec);
    grant.accessTokens.add(rec.token);
    return rec;
  }

  function issueRefresh(grant: Grant, scopes: string[]): RefreshRec {
    const rec: RefreshRec = { token: secretToken("1//0", 72), clientId: grant.clientId, scopes, live: true, grant };
    refreshTokens.set(rec.token, rec);
    grant.refreshTokens.push(rec);
    // Past the cap Google "automatically invalidates the oldest refresh token without warning".
    while (grant.refreshTokens.length > REFRESH_TOKEN_CAP) (grant.refreshTokens.shift() as RefreshRec).live = false;
    return rec;
  }

  /** Revocation removes the whole grant: every token of that user and client stops working. */
  function revokeGrant(grant: Grant): void {
    for (const t of grant.accessTokens) accessTokens.delete(t);
    for (const r of grant.refreshTokens) r.live = false;
    grant.accessTokens.clear();
    grant.refreshTokens = [];
    if (grants.get(grant.clientId) === grant) grants.delete(grant.clientId);
  }

  function response(access: AccessRec, refresh?: RefreshRec): TokenResponse {
    const base = { access_token: access.token, expires_in: ttl() };
    const tail = { scope: access.scopes.join(" "), token_type: "Bearer" as const };
    // Google's key order: access_token, expires_in, refresh_token, scope, token_type.
    return refresh ? { ...base, refresh_token: refresh.token, ...tail } : { ...base, ...tail };
  }

  return {
    clientKnown: (clientId: string) => secrets.has(clientId),

    /** Throws invalid_client as Google does: unknown id vs. wrong secret differ in description. */
    authenticateClient(clientId: string, secret: string | undefined): void {
      const expected = secrets.get(clientId);
      if (expected === undefined) throw new OAuthError(401, "invalid_client", "The OAuth client was not found.");
      if (secret === undefined || !safeEqual(secret, expected)) throw new OAuthError(401, "invalid_client", "Unauthorized");
    },

    grantedScopes: (clientId: string): string[] => [...(grants.get(clientId)?.scopes ?? [])],

    issueCode(req: AuthorizationRequest): { code: string; scopes: string[] } {
      sweep();
      const scopes = req.includeGrantedScopes ? [...new Set([...(grants.get(req.clientId)?.scopes ?? []), ...req.scopes])] : req.scopes;
      const code = secretToken("4/0", 54);
      codes.set(code, { ...req, scopes, expiresAt: now() + CODE_TTL_MS, used: false });
      return { code, scopes };
    },

    exchangeCode(p: { clientId: string; code: string; redirectUri: string; codeVerifier?: string }): TokenResponse {
      const rec = codes.get(p.code);
      if (!rec) throw new OAuthError(400, "invalid_grant", p.code.startsWith("4/") ? "Bad Request" : "Malformed auth code.");
      if (rec.used || rec.expiresAt <= now() || rec.clientId !== p.clientId) throw new OAuthError(400, "invalid_grant", "Bad Request");
      if (rec.redirectUri !== p.redirectUri) throw new OAuthError(400, "redirect_uri_mismatch", "Bad Request");
      if (rec.codeChallenge !== undefined) {
        const v = p.codeVerifier;
        const derived =
          v === undefined ? undefined : rec.codeChallengeMethod === "S256" ? createHash("sha256").update(v).digest("base64url") : v;
        if (derived === undefined || !safeEqual(derived, rec.codeChallenge))
          throw new OAuthError(400, "invalid_grant", "Invalid code verifier.");
      }
      rec.used = true;
      const grant = grantFor(rec.clientId);
      // A refresh token comes back only on the first offline grant, or when consent was forced.
      const wantsRefresh = rec.accessType === "offline" && (grant.refreshTokens.length === 0 || rec.forceConsent);
      for (const s of rec.scopes) grant.scopes.add(s);
      const refresh = wantsRefresh ? issueRefresh(grant, rec.scopes) : undefined;
      const access = issueAccess(grant, rec.scopes, rec.accessType);
      return response(access, refresh);
    },

    refresh(p: { clientId: string; refreshToken: string }): TokenResponse {
      const rec = refreshTokens.get(p.refreshToken);
      if (!rec) throw new OAuthError(400, "invalid_grant", "Bad Request");
      if (rec.clientId !== p.clientId) throw new OAuthError(401, "unauthorized_client", "Unauthorized");
      if (!rec.live) throw new OAuthError(400, "invalid_grant", "Token has been expired or revoked.");
      return response(issueAccess(rec.grant, rec.scopes, "offline"));
    },

    /** The /revoke endpoint: an access or refresh token; anything else is invalid_token. */
    revoke(token: string): void {
      const access = accessTokens.get(token);
      const refresh = refreshTokens.get(token);
      if (access && access.expiresAt > now()) return revokeGrant(access.grant);
      if (refresh?.live) return revokeGrant(refresh.grant);
      throw new OAuthError(400, "invalid_token", "Token expired or revoked");
    },

    /** The client an access or refresh token was issued to, for per-project counters. */
    ownerOf(token: string): string | undefined {
      return accessTokens.get(token)?.clientId ?? refreshTokens.get(token)?.clientId;
    },

    /** An access token the API may accept; `valid` is false once expired. */
    lookupAccess(token: string): { rec: AccessRec; valid: boolean } | undefined {
      const rec = accessTokens.get(token);
      return rec && { rec, valid: rec.expiresAt > now() };
    },

    expireAccess(input: { access_token?: string; client_id?: string }): number {
      const t = now();
      if (input.access_token !== undefined) {
        const rec = accessTokens.get(input.access_token);
        if (!rec) throw new ControlError(404, "unknown access_token");
        rec.expiresAt = Math.min(rec.expiresAt, t);
        return 1;
      }
      let n = 0;
      for (const rec of accessTokens.values()) {
        if ((input.client_id === undefined || rec.clientId === input.client_id) && rec.expiresAt > t) {
          rec.expiresAt = t;
          n++;
        }
      }
      return n;
    },

    revokeGrants(input: { client_id?: string; refresh_token?: string }): number {
      if (input.refresh_token !== undefined) {
        const rec = refreshTokens.get(input.refresh_token);
        if (!rec) throw new ControlError(404, "unknown refresh_token");
        if (!rec.live) return 0;
        revokeGrant(rec.grant);
        return 1;
      }
      const targets = [...grants.values()].filter((g) => input.client_id === undefined || g.clientId === input.client_id);
      targets.forEach(revokeGrant);
      return targets.length;
    },

    /** A ready offline grant, as if the user had consented just now. */
    issueDirect(clientId: string, scope: string): IssuedTokens {
      if (!secrets.has(clientId)) throw new ControlError(404, `unknown client_id ${clientId}`);
      const scopes = scope.split(/\s+/).filter(Boolean);
      const grant = grantFor(clientId);
      for (const s of scopes) grant.scopes.add(s);
      const refresh = issueRefresh(grant, scopes);
      const access = issueAccess(grant, scopes, "offline");
      return { access_token: access.token, refresh_token: refresh.token, expires_in: ttl(), scope: scopes.join(" "), token_type: "Bearer" };
    },
  };
}
