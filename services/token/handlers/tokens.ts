import { callerOf, requireRole, tenantScope, TOKEN_READ_ROLES, WRITE_ROLES, type Caller } from "../../../lib/auth/index.js";
import type { RoleName } from "../../../lib/db/index.js";
import { writeAudit } from "../../../lib/db/index.js";
import { FailedPreconditionError, NotFoundError, UnavailableError } from "../../../lib/errors/index.js";
import { statusToProto, toTokenInfo, ts } from "../convert.js";
import type { TokenHandlers, TokenServiceDeps } from "../deps.js";
import type { ClientStatus } from "../entities/index.js";
import { classify } from "../google-oauth.js";
import { aad } from "../secrets.js";
import { openSealed } from "../token-errors.js";
import { deleteTokens, lockState, metadataOf, notifyChange, readState, setClientStatus, type TokenState } from "../token-store.js";

/** Who may force a refresh: those who manage clients, and services that found a token rejected. */
const REFRESH_ROLES: readonly RoleName[] = [...WRITE_ROLES, "service"];

/** ValidateToken, RefreshToken, GetTokenInfo, RevokeToken, GetConnectionStatus. */
export function createTokenHandlers(deps: TokenServiceDeps): TokenHandlers {
  const { dataSource, secretBox, clock, metrics } = deps;

  async function visibleState(caller: Caller, clientId: string): Promise<TokenState> {
    const scope = tenantScope(caller);
    const state = await readState(dataSource.manager, clientId);
    if (!state || (scope !== undefined && state.tenantId !== scope)) throw new NotFoundError("client", clientId);
    return state;
  }

  return {
    async validateToken(req, ctx) {
      const started = performance.now();
      const caller = callerOf(ctx);
      requireRole(caller, TOKEN_READ_ROLES, "read access tokens");
      const token = await deps.tokens.getUsableToken(req.clientId, caller);
      metrics.validateSeconds.observe({ source: token.source }, (performance.now() - started) / 1000);
      return {
        accessToken: token.accessToken,
        tokenType: "Bearer",
        expireTime: ts(token.expiresAt),
        scopes: token.scopes,
        refreshed: token.refreshed,
      };
    },

    async refreshToken(req, ctx) {
      const caller = callerOf(ctx);
      requireRole(caller, REFRESH_ROLES, "refresh tokens");
      return { token: toTokenInfo(await deps.tokens.forceRefresh(req.clientId, caller)) };
    },

    async getTokenInfo(req, ctx) {
      // metadata only, so every role of the tenant may read it
      return { token: toTokenInfo(metadataOf(await visibleState(callerOf(ctx), req.clientId))) };
    },

    async getConnectionStatus(req, ctx) {
      const state = await visibleState(callerOf(ctx), req.clientId);
      return { clientId: state.clientId, status: statusToProto(state.status), reason: state.statusReason };
    },

    async revokeToken(req, ctx) {
      const caller = callerOf(ctx);
      requireRole(caller, WRITE_ROLES, "revoke tokens");
      const before = await visibleState(caller, req.clientId);
      // under the row lock, so no refresh can store a new token after we revoked the grant
      const result = await dataSource.transaction(async (m) => {
        const state = await lockState(m, req.clientId);
        if (!state) return { status: before.status, revokedAtGoogle: false, at: undefined };
        // the refresh token revokes the whole grant at Google; the access token is the fallback
        const token = state.sealedRefreshToken
          ? openSealed(
              secretBox,
              state.sealedRefreshToken,
              aad.refreshToken(state.clientId),
              `the refresh token of client ${state.clientId}`,
              deps.logger,
            )
          : openSealed(
              secretBox,
              state.sealedAccessToken ?? "",
              aad.accessToken(state.clientId),
              `the access token of client ${state.clientId}`,
              deps.logger,
            );
        let revokedAtGoogle: boolean;
        try {
          revokedAtGoogle = (await deps.google.revoke(token)) === "revoked";
        } catch (err) {
          const failure = classify(err);
          if (failure.kind === "transient") {
            throw new UnavailableError(
              `Google did not answer the revocation of client ${state.clientId} (${failure.oauthError}); nothing was deleted, retry later`,
            );
          }
          throw new FailedPreconditionError(
            `Google refused to revoke the grant of client ${state.clientId} (${failure.oauthError}); nothing was deleted`,
          );
        }
        const now = new Date(clock.now());
        await deleteTokens(m, state.clientId);
        await setClientStatus(m, { clientId: state.clientId, status: "revoked", reason: "", now });
        await writeAudit(m, {
          tenantId: state.tenantId,
          actor: caller.keyId,
          action: "token.revoke",
          targetType: "client",
          targetId: state.clientId,
          details: { revoked_at_google: revokedAtGoogle },
        });
        await notifyChange(m, state.clientId);
        return { status: "revoked" as ClientStatus, revokedAtGoogle, at: now };
      });
      deps.cache.evict(req.clientId);
      if (result.at) {
        await deps.events.publish({
          event: "revoked",
          clientId: req.clientId,
          tenantId: before.tenantId,
          at: result.at,
          dedupeKey: String(result.at.getTime()),
        });
      }
      return { clientId: req.clientId, status: statusToProto(result.status), revokedAtGoogle: result.revokedAtGoogle };
    },
  };
}
