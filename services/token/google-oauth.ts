import { CodeChallengeMethod, OAuth2Client, type Credentials } from "google-auth-library";
import type { GoogleEndpoints } from "../../lib/config/index.js";
import { classifyGoogleError } from "../../lib/google/google-error.js";
import { redactString } from "../../lib/log/index.js";

/**
 * The only code that knows google-auth-library: Google's OAuth endpoints behind a narrow
 * interface. Every call is made once (no library retries): the token manager decides when to try
 * again, so a flaky Google is never hammered and the emulator's grant counts stay exact.
 */
export interface GoogleOAuth {
  /** A PKCE pair (S256): the verifier stays with us, the challenge goes into the URL. */
  createPkce(): Promise<{ verifier: string; challenge: string }>;
  authorizationUrl(input: { googleClientId: string; redirectUri: string; scopes: string[]; state: string; codeChallenge: string }): string;
  exchangeCode(client: GoogleClientCredentials, input: { code: string; codeVerifier: string; redirectUri: string }): Promise<GoogleTokens>;
  refresh(client: GoogleClientCredentials, refreshToken: string): Promise<GoogleTokens>;
  /** Revokes the whole grant; "already_invalid" when Google answers 400 invalid_token. */
  revoke(token: string): Promise<"revoked" | "already_invalid">;
}

export interface GoogleClientCredentials {
  googleClientId: string;
  clientSecret: string;
}

export interface GoogleTokens {
  accessToken: string;
  /** Absent when Google kept the existing refresh token (always, on a refresh grant). */
  refreshToken?: string;
  /** Lifetime as Google stated it (expires_in), in milliseconds. */
  expiresInMs: number;
  /** Granted scopes; empty when Google did not say. */
  scopes: string[];
  tokenType: string;
}

/**
 * invalid_grant: the code or refresh token is dead (re-consent needed); invalid_client: our
 * client id/secret are wrong (configuration); rejected: any other 4xx; transient: 5xx, 429,
 * timeouts and network failures (try later).
 */
export type GoogleFailureKind = "invalid_grant" | "invalid_client" | "rejected" | "transient";

export class GoogleOAuthError extends Error {
  constructor(
    readonly kind: GoogleFailureKind,
    /** Google's `error` value or a network error code; never a secret. */
    readonly oauthError: string,
    /** Google's error_description, trimmed and redacted. */
    readonly description: string,
    readonly status: number | undefined,
  ) {
    super(`${oauthError}${description ? `: ${description}` : ""}`);
    this.name = "GoogleOAuthError";
  }
}

/** google-auth-library keeps its refresh call protected; expose it without the per-token promise cache. */
class TokenEndpointClient extends OAuth2Client {
  refreshOnce(refreshToken: string) {
    return this.refreshTokenNoCache(refreshToken);
  }
}

export interface GoogleOAuthOptions {
  endpoints: GoogleEndpoints;
  /** Per-request timeout; a hung Google must not hold the refresh lock for long. */
  timeoutMs?: number;
}

export function createGoogleOAuth(options: GoogleOAuthOptions): GoogleOAuth {
  const timeout = options.timeoutMs ?? 10_000;
  const endpoints = {
    oauth2AuthBaseUrl: options.endpoints.authUrl,
    oauth2TokenUrl: options.endpoints.tokenUrl,
    oauth2RevokeUrl: options.endpoints.revokeUrl,
    tokenInfoUrl: options.endpoints.tokenInfoUrl,
  };
  const make = (creds?: GoogleClientCredentials, redirectUri?: string) => {
    const client = new TokenEndpointClient({
      clientId: creds?.googleClientId,
      clientSecret: creds?.clientSecret,
      redirectUri,
      endpoints,
      transporterOptions: { timeout },
    });
    // the library asks gaxios for 3 retries on 5xx/429/network errors: turn them off
    client.transporter.interceptors.request.add({
      resolved: async (config) => {
        config.retry = false;
        config.retryConfig = { ...config.retryConfig, retry: 0, noResponseRetries: 0 };
        return config;
      },
    });
    return client;
  };
  const unauthenticated = make();

  return {
    async createPkce() {
      const { codeVerifier, codeChallenge } = await unauthenticated.generateCodeVerifierAsync();
      if (!codeChallenge) throw new Error("google-auth-library returned no code challenge");
      return { verifier: codeVerifier, challenge: codeChallenge };
    },

    authorizationUrl(input) {
      return make({ googleClientId: input.googleClientId, clientSecret: "" }, input.redirectUri).generateAuthUrl({
        access_type: "offline",
        prompt: "consent",
        scope: input.scopes,
        state: input.state,
        code_challenge_method: CodeChallengeMethod.S256,
        code_challenge: input.codeChallenge,
      });
    },

    async exchangeCode(creds, input) {
      const client = make(creds, input.redirectUri);
      const started = Date.now();
      try {
        const { tokens } = await client.getToken({ code: input.code, codeVerifier: input.codeVerifier, redirect_uri: input.redirectUri });
        return toTokens(tokens, started);
      } catch (err) {
        throw classify(err);
      }
    },

    async refresh(creds, refreshToken) {
      const client = make(creds);
      const started = Date.now();
      try {
        const { tokens } = await client.refreshOnce(refreshToken);
        return toTokens(tokens, started);
      } catch (err) {
        throw classify(err);
      }
    },

    async revoke(token) {
      try {
        await unauthenticated.revokeToken(token);
        return "revoked";
      } catch (err) {
        const failure = classify(err);
        // Google answers 400 invalid_token for a token it no longer knows: already revoked or expired
        if (failure.status === 400 && failure.oauthError === "invalid_token") return "already_invalid";
        throw failure;
      }
    },
  };
}

function toTokens(tokens: Credentials, started: number): GoogleTokens {
  if (!tokens.access_token) throw new GoogleOAuthError("rejected", "no_access_token", "Google's answer carried no access token", 200);
  // the library turned expires_in into expiry_date using Date.now() at response time
  const expiresInMs = typeof tokens.expiry_date === "number" ? Math.max(0, tokens.expiry_date - started) : 3_600_000;
  return {
    accessToken: tokens.access_token,
    refreshToken: tokens.refresh_token ?? undefined,
    expiresInMs,
    scopes: (tokens.scope ?? "").split(/\s+/).filter(Boolean),
    tokenType: tokens.token_type ?? "Bearer",
  };
}

/**
 * Turns a gaxios error into a GoogleOAuthError. The HTTP status, timeouts and network failures
 * are read by lib/google's classifier, the one the fetcher uses too; only the OAuth refinement
 * (invalid_grant, invalid_client) is the TokenService's own.
 */
export function classify(err: unknown): GoogleOAuthError {
  if (err instanceof GoogleOAuthError) return err;
  const failure = classifyGoogleError(err, "token endpoint");
  const status = failure.httpStatus || undefined;
  const description = failure.oauth.description ? redactString(failure.oauth.description).slice(0, 200) : "";
  const oauthError = failure.oauth.error;
  if (status === undefined) {
    // no HTTP answer at all: timeout, refused connection, DNS
    return new GoogleOAuthError(
      "transient",
      failure.oauth.networkCode ?? "network_error",
      "no answer from Google's token endpoint",
      undefined,
    );
  }
  if (failure.kind === "transient") return new GoogleOAuthError("transient", oauthError ?? `http_${status}`, description, status);
  if (oauthError === "invalid_grant") return new GoogleOAuthError("invalid_grant", oauthError, description, status);
  if (oauthError === "invalid_client" || oauthError === "unauthorized_client" || failure.kind === "unauthenticated") {
    return new GoogleOAuthError("invalid_client", oauthError ?? `http_${status}`, description, status);
  }
  return new GoogleOAuthError("rejected", oauthError ?? `http_${status}`, description, status);
}
