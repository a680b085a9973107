import { randomUUID } from "node:crypto";
import { Code } from "@connectrpc/connect";
import type { EntityManager } from "typeorm";
import { callerOf, requireRole, WRITE_ROLES } from "../../../lib/auth/index.js";
import { CONSENT_FAILURE_METADATA, type ConsentFailure } from "../../../lib/consent/failures.js";
import { writeAudit } from "../../../lib/db/index.js";
import { DomainError, NotFoundError } from "../../../lib/errors/index.js";
import { toClient, toTokenInfo, ts } from "../convert.js";
import type { TokenHandlers, TokenServiceDeps } from "../deps.js";
import { ClientRow, LoginLinkRow, OAuthStateRow } from "../entities/index.js";
import { classify, type GoogleOAuthError } from "../google-oauth.js";
import { findVisibleClient } from "../lookups.js";
import { aad, randomSecret, sha256Hex } from "../secrets.js";
import { metadataOf, notifyChange, queryRows, readState, setClientStatus, upsertGrant } from "../token-store.js";
import { openSealed } from "../token-errors.js";
import { BUSINESS_SCOPE } from "./clients.js";

/** Either business scope lets reviewflow read reviews; Google may still answer with the legacy one. */
const BUSINESS_SCOPES = [BUSINESS_SCOPE, "https://www.googleapis.com/auth/plus.business.manage"];

/**
 * StartOAuth, OpenLoginLink, CompleteOAuth. The one-time state is the CSRF proof and names the
 * client whose credentials exchange the code; it and the login link are stored only as SHA-256
 * and redeemed with one conditional UPDATE, so two concurrent redemptions cannot both succeed.
 * Unknown, used and expired states or links are INVALID_ARGUMENT (the value sent is not
 * acceptable), each with its own message. Every consent failure also carries its reason as
 * metadata (lib/consent/failures.ts), from which the gateway's pages tell a business owner what
 * happened in plain words.
 */
export function createConsentHandlers(deps: TokenServiceDeps): TokenHandlers {
  const { dataSource, secretBox, clock, google, settings } = deps;

  /** A fresh state (with its PKCE verifier, sealed) and Google's authorization URL carrying it. */
  async function issueState(m: EntityManager, client: ClientRow) {
    const state = randomSecret();
    const id = randomUUID();
    const pkce = await google.createPkce();
    const now = clock.now();
    const expiresAt = new Date(now + settings.stateTtlMs);
    await m.insert(OAuthStateRow, {
      id,
      stateHash: sha256Hex(state),
      clientId: client.id,
      codeVerifier: secretBox.seal(pkce.verifier, aad.codeVerifier(id)),
      redirectUri: client.redirectUri,
      createdAt: new Date(now),
      expiresAt,
      usedAt: null,
    });
    const authorizationUrl = google.authorizationUrl({
      googleClientId: client.googleClientId,
      redirectUri: client.redirectUri,
      scopes: client.scopes,
      state,
      codeChallenge: pkce.challenge,
    });
    return { authorizationUrl, state, expiresAt };
  }

  /** Says why a state or link was not redeemable, without revealing anything about other clients. */
  async function whyNot(
    table: "oauth_states" | "oauth_login_links",
    hash: string,
    clientId: string | undefined,
    now: Date,
    what: string,
  ): Promise<DomainError> {
    const column = table === "oauth_states" ? "state_hash" : "link_hash";
    const [row] = await queryRows<{ client_id: string; used_at: Date | null; expires_at: Date }>(
      dataSource.manager,
      `SELECT client_id, used_at, expires_at FROM ${table} WHERE ${column} = $1`,
      [hash],
    );
    const again = "start the consent flow again (StartOAuth)";
    const kind = table === "oauth_states" ? "state" : "link";
    const fail = (why: "unknown" | "used" | "expired", message: string) => consentError(Code.InvalidArgument, `${kind}_${why}`, message);
    if (!row || (clientId !== undefined && row.client_id !== clientId)) return fail("unknown", `${what} is unknown: ${again}`);
    if (row.used_at) return fail("used", `${what} was already used: ${again}`);
    if (row.expires_at <= now) return fail("expired", `${what} expired at ${row.expires_at.toISOString()}: ${again}`);
    return fail("unknown", `${what} cannot be used: ${again}`);
  }

  return {
    async startOAuth(req, ctx) {
      const caller = callerOf(ctx);
      requireRole(caller, WRITE_ROLES, "start consent");
      const client = await findVisibleClient(dataSource.manager, caller, req.clientId);
      const link = randomSecret();
      const now = clock.now();
      const loginExpiresAt = new Date(now + settings.loginLinkTtlMs);
      const issued = await dataSource.transaction(async (m) => {
        const state = await issueState(m, client);
        await m.insert(LoginLinkRow, {
          id: randomUUID(),
          linkHash: sha256Hex(link),
          clientId: client.id,
          createdBy: caller.keyId,
          createdAt: new Date(now),
          expiresAt: loginExpiresAt,
          usedAt: null,
        });
        await writeAudit(m, {
          tenantId: client.tenantId,
          actor: caller.keyId,
          action: "oauth.start",
          targetType: "client",
          targetId: client.id,
          details: { state_expires_at: state.expiresAt.toISOString(), login_expires_at: loginExpiresAt.toISOString() },
        });
        return state;
      });
      const loginUrl = `${settings.publicUrl}/oauth/login/${encodeURIComponent(client.id)}?link=${encodeURIComponent(link)}`;
      return {
        authorizationUrl: issued.authorizationUrl,
        loginUrl,
        state: issued.state,
        expiresAt: ts(issued.expiresAt),
        loginExpiresAt: ts(loginExpiresAt),
      };
    },

    async openLoginLink(req) {
      const hash = sha256Hex(req.link);
      const now = new Date(clock.now());
      const [link] = await queryRows<{ id: string }>(
        dataSource.manager,
        `UPDATE oauth_login_links SET used_at = $3
         WHERE link_hash = $1 AND client_id = $2 AND used_at IS NULL AND expires_at > $3 RETURNING id`,
        [hash, req.clientId, now],
      );
      if (!link) throw await whyNot("oauth_login_links", hash, req.clientId, now, "login link");
      const client = await dataSource.manager.findOneBy(ClientRow, { id: req.clientId });
      if (!client) throw new NotFoundError("client", req.clientId);
      const issued = await dataSource.transaction(async (m) => {
        const state = await issueState(m, client);
        await writeAudit(m, {
          tenantId: client.tenantId,
          actor: "login-link",
          action: "oauth.login_link.open",
          targetType: "client",
          targetId: client.id,
          details: { link_id: link.id },
        });
        return state;
      });
      return { authorizationUrl: issued.authorizationUrl };
    },

    async completeOAuth(req) {
      const hash = sha256Hex(req.state);
      const now = new Date(clock.now());
      // redeem first: whatever happens next, this state is spent
      const [state] = await queryRows<{ id: string; client_id: string; code_verifier: string; redirect_uri: string }>(
        dataSource.manager,
        `UPDATE oauth_states SET used_at = $2 WHERE state_hash = $1 AND used_at IS NULL AND expires_at > $2
         RETURNING id, client_id, code_verifier, redirect_uri`,
        [hash, now],
      );
      if (!state) throw await whyNot("oauth_states", hash, undefined, now, "state");
      const client = await dataSource.manager.findOneBy(ClientRow, { id: state.client_id });
      if (!client) throw new NotFoundError("client", state.client_id);
      const credentials = {
        googleClientId: client.googleClientId,
        clientSecret: openSealed(
          secretBox,
          client.clientSecret,
          aad.clientSecret(client.id),
          `the client secret of client ${client.id}`,
          deps.logger,
        ),
      };
      let tokens;
      try {
        tokens = await google.exchangeCode(credentials, {
          code: req.code,
          codeVerifier: openSealed(
            secretBox,
            state.code_verifier,
            aad.codeVerifier(state.id),
            "the consent state's PKCE verifier",
            deps.logger,
          ),
          redirectUri: state.redirect_uri,
        });
      } catch (err) {
        throw exchangeError(classify(err), client.id);
      }
      if (tokens.scopes.length > 0 && !tokens.scopes.some((s) => BUSINESS_SCOPES.includes(s))) {
        throw consentError(
          Code.FailedPrecondition,
          "scope_missing",
          `Google granted no business.manage scope for client ${client.id}: the person must allow access to the business profile; start the consent flow again (StartOAuth)`,
        );
      }
      if (tokens.scopes.length === 0) tokens = { ...tokens, scopes: client.scopes };
      if (!tokens.refreshToken) {
        const [stored] = await queryRows<{ has: boolean }>(
          dataSource.manager,
          `SELECT refresh_token IS NOT NULL AS has FROM tokens WHERE client_id = $1`,
          [client.id],
        );
        if (!stored?.has) {
          throw consentError(
            Code.FailedPrecondition,
            "no_refresh_token",
            `Google returned no refresh token for client ${client.id} (offline access not granted): remove the app's access in the Google account, then start the consent flow again`,
          );
        }
      }
      const grant = tokens;
      const connectedAt = new Date(clock.now());
      await dataSource.transaction(async (m) => {
        await upsertGrant(m, secretBox, { clientId: client.id, tokens: grant, now: connectedAt });
        await setClientStatus(m, { clientId: client.id, status: "connected", reason: "", now: connectedAt });
        await writeAudit(m, {
          tenantId: client.tenantId,
          actor: "oauth-callback",
          action: "oauth.complete",
          targetType: "client",
          targetId: client.id,
          details: { scopes: grant.scopes, refresh_token_received: grant.refreshToken !== undefined },
        });
        await notifyChange(m, client.id);
      });
      deps.cache.evict(client.id);
      const stored = await readState(dataSource.manager, client.id);
      if (!stored) throw new NotFoundError("client", client.id);
      await deps.events.publish({
        event: "connected",
        clientId: client.id,
        tenantId: client.tenantId,
        at: connectedAt,
        expiresAt: stored.expiresAt ?? undefined,
        dedupeKey: String(connectedAt.getTime()),
      });
      const updated = Object.assign(new ClientRow(), client, { status: "connected", statusReason: "", updatedAt: connectedAt });
      return { client: toClient(updated), token: toTokenInfo(metadataOf(stored)) };
    },
  };
}

/** Google's refusal of a code exchange, in words a caller can act on and free of secrets. */
function exchangeError(failure: GoogleOAuthError, clientId: string): DomainError {
  const detail = `${failure.oauthError}${failure.description ? `: ${failure.description}` : ""}`;
  switch (failure.kind) {
    case "invalid_grant":
      return consentError(
        Code.InvalidArgument,
        "code_rejected",
        `Google rejected the authorization code (${detail}): it is wrong, expired or already used, or the PKCE verifier does not match; start the consent flow again (StartOAuth)`,
      );
    case "invalid_client":
      return consentError(
        Code.FailedPrecondition,
        "client_misconfigured",
        `Google rejected the credentials of client ${clientId} (${detail}): check its Google client id and secret (UpdateClient)`,
      );
    case "transient":
      return consentError(
        Code.Unavailable,
        "google_unavailable",
        `Google's token endpoint did not answer (${failure.oauthError}); start the consent flow again later`,
      );
    default:
      return consentError(
        Code.FailedPrecondition,
        "client_misconfigured",
        `Google refused the code exchange for client ${clientId} (${detail}); check the client's redirect URI and start the consent flow again`,
      );
  }
}

/** A consent failure: the message for API users, the reason for the gateway's pages. */
function consentError(code: Code, reason: ConsentFailure, message: string): DomainError {
  return new DomainError(code, message, { [CONSENT_FAILURE_METADATA]: reason });
}
