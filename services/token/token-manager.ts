import type { DataSource } from "typeorm";
import { tenantScope, type Caller } from "../../lib/auth/index.js";
import type { SecretBox } from "../../lib/crypto/index.js";
import { writeAudit } from "../../lib/db/index.js";
import type { Logger } from "../../lib/log/index.js";
import { FailedPreconditionError, NotFoundError, type DomainError } from "../../lib/errors/index.js";
import type { TokenMetadata } from "./convert.js";
import type { TokenEvents } from "./events.js";
import { classify, type GoogleOAuth, type GoogleOAuthError, type GoogleTokens } from "./google-oauth.js";
import type { RefreshOutcome, TokenMetrics } from "./metrics.js";
import { aad } from "./secrets.js";
import type { Clock, TokenSettings } from "./settings.js";
import type { CacheTicket, TokenCache } from "./token-cache.js";
import { createLimiter } from "./limiter.js";
import { cooldownMs, openSealed, RefreshCoolingDownError, statusError } from "./token-errors.js";
import {
  lockState,
  metadataOf,
  notifyChange,
  readState,
  recordFailure,
  saveRefreshed,
  setClientStatus,
  type TokenState,
} from "./token-store.js";

/**
 * Hands out access tokens and refreshes them: exactly one refresh per expiry, however many
 * callers and instances ask at once. In-process, concurrent callers share one flight per
 * client; across instances, the refresh runs holding the client's token row lock and re-reads
 * the row first, so an instance that waited finds the token another one stored. After a
 * transient Google failure the client cools down (shared through `retry_after`), and callers get
 * the still-usable current token or UNAVAILABLE with retry-after; Google is never hammered.
 */
export interface UsableToken {
  accessToken: string;
  expiresAt: Date;
  scopes: string[];
  /** True when this call (or the flight it joined) refreshed the token. */
  refreshed: boolean;
  source: "cache" | "database" | "refresh";
}

export type Trigger = "validate" | "force" | "sweeper";

export interface TokenManager {
  /** A token with more than the refresh window left, refreshing first when needed (ValidateToken). */
  getUsableToken(clientId: string, caller: Caller): Promise<UsableToken>;
  /** Refreshes now (unless another refresh finished after this call began) and returns the metadata. */
  forceRefresh(clientId: string, caller: Caller): Promise<TokenMetadata>;
  /** The sweeper's entry: refreshes when the token expires within `horizonMs`; skips rows being refreshed elsewhere. */
  refreshIfDue(clientId: string, horizonMs: number): Promise<"refreshed" | "fresh" | "skipped" | "failed">;
}

export interface TokenManagerDeps {
  dataSource: DataSource;
  secretBox: SecretBox;
  google: GoogleOAuth;
  events: TokenEvents;
  cache: TokenCache;
  clock: Clock;
  settings: TokenSettings;
  logger: Logger;
  metrics: TokenMetrics;
}

type Mode = { kind: "due"; thresholdMs: number } | { kind: "force"; requestedAt: number };

interface RefreshRequest {
  mode: Mode;
  trigger: Trigger;
  actor: string;
  ticket: CacheTicket;
  skipLocked?: boolean;
}

/** What happened under the lock; side effects outside the database (events, cache, errors) follow the commit. */
type LockedOutcome =
  | { kind: "none" }
  | { kind: "error"; error: DomainError }
  | { kind: "fresh"; state: TokenState }
  | { kind: "cooldown"; state: TokenState }
  | { kind: "refreshed"; state: TokenState; accessToken: string; expiresAt: Date; scopes: string[] }
  | { kind: "needs_reauth"; state: TokenState; reason: string; at: Date }
  | { kind: "failed"; state: TokenState; failure: GoogleOAuthError; retryAfter: Date };

export function createTokenManager(deps: TokenManagerDeps): TokenManager {
  const { dataSource, secretBox, cache, clock, settings, metrics } = deps;
  const flights = new Map<string, Promise<UsableToken>>();
  const db = createLimiter(settings.dbConcurrency);

  function shared(key: string, run: () => Promise<UsableToken>): Promise<UsableToken> {
    let flight = flights.get(key);
    if (!flight) {
      flight = run().finally(() => flights.delete(key));
      flights.set(key, flight);
    }
    return flight;
  }

  const openAccess = (state: TokenState) =>
    openSealed(
      secretBox,
      state.sealedAccessToken ?? "",
      aad.accessToken(state.clientId),
      `the access token of client ${state.clientId}`,
      deps.logger,
    );

  function serve(state: TokenState, ticket: CacheTicket, serveUntil: number, source: UsableToken["source"]): UsableToken {
    const accessToken = openAccess(state);
    const expiresAt = state.expiresAt ?? new Date(0);
    cache.put(
      state.clientId,
      ticket,
      { accessToken, tenantId: state.tenantId, expiresAt: expiresAt.getTime(), scopes: state.scopes, serveUntil },
      clock.now(),
    );
    return { accessToken, expiresAt, scopes: state.scopes, refreshed: false, source };
  }

  /** During a cooldown: the current token while it has some life left, else UNAVAILABLE with retry-after. */
  function duringCooldown(state: TokenState, ticket: CacheTicket, retryAfter: number): UsableToken {
    const now = clock.now();
    const expiresAt = state.expiresAt?.getTime() ?? 0;
    if (expiresAt - now >= settings.minUsableMs)
      return serve(state, ticket, Math.min(retryAfter, expiresAt - settings.minUsableMs), "database");
    throw new RefreshCoolingDownError(state.clientId, state.lastError, retryAfter - now);
  }

  function visible(state: TokenState | undefined, scope: string | undefined, clientId: string): TokenState {
    // another tenant's client must look exactly like a missing one
    if (!state || (scope !== undefined && state.tenantId !== scope)) throw new NotFoundError("client", clientId);
    return state;
  }

  async function refreshLocked(clientId: string, request: RefreshRequest): Promise<LockedOutcome> {
    return db.run(() =>
      dataSource.transaction(async (m): Promise<LockedOutcome> => {
        const state = await lockState(m, clientId, request.skipLocked);
        if (!state) return { kind: "none" };
        const invalid = statusError(state);
        if (invalid) return { kind: "error", error: invalid };
        const now = clock.now();
        const { mode } = request;
        // re-read inside the lock: another caller or instance may have refreshed while we waited
        if (mode.kind === "due" && (state.expiresAt?.getTime() ?? 0) - now > mode.thresholdMs) return { kind: "fresh", state };
        if (mode.kind === "force" && (state.lastRefreshAt?.getTime() ?? -Infinity) > mode.requestedAt) return { kind: "fresh", state };
        if (state.retryAfter && state.retryAfter.getTime() > now) return { kind: "cooldown", state };
        if (!state.sealedRefreshToken) {
          return {
            kind: "error",
            error: new FailedPreconditionError(`client ${clientId} has no refresh token stored: run the consent flow again (StartOAuth)`),
          };
        }
        const creds = {
          googleClientId: state.googleClientId,
          clientSecret: openSealed(
            secretBox,
            state.sealedClientSecret,
            aad.clientSecret(clientId),
            `the client secret of client ${clientId}`,
            deps.logger,
          ),
        };
        const refreshToken = openSealed(
          secretBox,
          state.sealedRefreshToken,
          aad.refreshToken(clientId),
          `the refresh token of client ${clientId}`,
          deps.logger,
        );
        let answer: GoogleTokens;
        try {
          answer = await deps.google.refresh(creds, refreshToken);
        } catch (err) {
          const failure = classify(err);
          const at = new Date(clock.now());
          const lastError = `${failure.oauthError}${failure.description ? `: ${failure.description}` : ""}`;
          if (failure.kind === "invalid_grant") {
            const reason = `Google refused the refresh token (${lastError})`;
            await setClientStatus(m, { clientId, status: "needs_reauth", reason, now: at });
            await recordFailure(m, { clientId, error: lastError, retryAfter: null, now: at });
            await writeAudit(m, {
              tenantId: state.tenantId,
              actor: "google",
              action: "token.needs_reauth",
              targetType: "client",
              targetId: clientId,
              details: { error: failure.oauthError, trigger: request.trigger },
            });
            await notifyChange(m, clientId);
            return { kind: "needs_reauth", state, reason, at };
          }
          const retryAfter = new Date(at.getTime() + cooldownMs(state.failureCount + 1, settings.cooldownBaseMs, settings.cooldownMaxMs));
          await recordFailure(m, { clientId, error: lastError, retryAfter, now: at });
          return { kind: "failed", state: { ...state, lastError, retryAfter }, failure, retryAfter };
        }
        // Google kept the refresh token: re-seal ours only when it was sealed with a retired key
        const tokens = answer.refreshToken || !secretBox.isStale(state.sealedRefreshToken) ? answer : { ...answer, refreshToken };
        const at = new Date(clock.now());
        const expiresAt = await saveRefreshed(m, secretBox, { clientId, tokens, now: at });
        await writeAudit(m, {
          tenantId: state.tenantId,
          actor: request.actor,
          action: "token.refresh",
          targetType: "client",
          targetId: clientId,
          details: { trigger: request.trigger, expires_at: expiresAt.toISOString() },
        });
        const scopes = tokens.scopes.length > 0 ? tokens.scopes : state.scopes;
        return {
          kind: "refreshed",
          state: { ...state, refreshCount: state.refreshCount + 1 },
          accessToken: tokens.accessToken,
          expiresAt,
          scopes,
        };
      }),
    );
  }

  const read = (clientId: string) => db.run(() => readState(dataSource.manager, clientId));

  /** Refreshes under the lock and turns the outcome into a token or the error a caller sees. */
  async function refresh(clientId: string, request: RefreshRequest): Promise<UsableToken> {
    const outcome = await refreshLocked(clientId, request);
    switch (outcome.kind) {
      case "none": {
        // no token row: the client is gone, never connected, or was revoked meanwhile
        const state = await read(clientId);
        throw (state && statusError(state)) ?? new NotFoundError("client", clientId);
      }
      case "error":
        throw outcome.error;
      case "fresh":
        return serve(outcome.state, request.ticket, (outcome.state.expiresAt?.getTime() ?? 0) - settings.refreshWindowMs, "database");
      case "cooldown": {
        const retryAfter = outcome.state.retryAfter?.getTime() ?? clock.now();
        // a forced refresh does not jump the queue: the cooldown protects Google
        if (request.mode.kind === "force") throw new RefreshCoolingDownError(clientId, outcome.state.lastError, retryAfter - clock.now());
        return duringCooldown(outcome.state, request.ticket, retryAfter);
      }
      case "refreshed": {
        count("success", request.trigger);
        const { state, accessToken, expiresAt, scopes } = outcome;
        cache.put(
          clientId,
          request.ticket,
          {
            accessToken,
            tenantId: state.tenantId,
            expiresAt: expiresAt.getTime(),
            scopes,
            serveUntil: expiresAt.getTime() - settings.refreshWindowMs,
          },
          clock.now(),
        );
        await deps.events.publish({
          event: "refreshed",
          clientId,
          tenantId: state.tenantId,
          at: new Date(clock.now()),
          expiresAt,
          dedupeKey: String(state.refreshCount),
        });
        return { accessToken, expiresAt, scopes, refreshed: true, source: "refresh" };
      }
      case "needs_reauth": {
        count("invalid_grant", request.trigger);
        cache.evict(clientId);
        deps.logger.warn("client needs re-consent", { client_id: clientId, reason: outcome.reason });
        await deps.events.publish({
          event: "needs_reauth",
          clientId,
          tenantId: outcome.state.tenantId,
          at: outcome.at,
          reason: outcome.reason,
          dedupeKey: String(outcome.at.getTime()),
        });
        throw new FailedPreconditionError(
          `client ${clientId} needs re-consent: ${outcome.reason}; run the consent flow again (StartOAuth)`,
        );
      }
      case "failed": {
        const { failure, state } = outcome;
        count(failure.kind, request.trigger);
        deps.logger.warn("token refresh failed at Google", {
          client_id: clientId,
          error: failure.oauthError,
          status: failure.status,
          retry_after: outcome.retryAfter.toISOString(),
        });
        if (failure.kind !== "transient") {
          throw new FailedPreconditionError(
            `Google rejected the refresh for client ${clientId} (${state.lastError}): check the client's Google client id and secret (UpdateClient)`,
          );
        }
        if (request.mode.kind === "force")
          throw new RefreshCoolingDownError(clientId, state.lastError, outcome.retryAfter.getTime() - clock.now());
        return duringCooldown(state, request.ticket, outcome.retryAfter.getTime());
      }
    }
  }

  function count(outcome: RefreshOutcome, trigger: Trigger): void {
    metrics.refreshes.inc({ outcome, trigger });
  }

  async function slowPath(clientId: string, scope: string | undefined, actor: string): Promise<UsableToken> {
    const ticket = cache.ticket(clientId);
    const state = visible(await read(clientId), scope, clientId);
    const invalid = statusError(state);
    if (invalid) throw invalid;
    const now = clock.now();
    const expiresAt = state.expiresAt?.getTime() ?? 0;
    if (expiresAt - now > settings.refreshWindowMs) return serve(state, ticket, expiresAt - settings.refreshWindowMs, "database");
    if (state.retryAfter && state.retryAfter.getTime() > now) return duringCooldown(state, ticket, state.retryAfter.getTime());
    return refresh(clientId, { mode: { kind: "due", thresholdMs: settings.refreshWindowMs }, trigger: "validate", actor, ticket });
  }

  return {
    async getUsableToken(clientId, caller) {
      const scope = tenantScope(caller);
      const hit = cache.get(clientId, clock.now());
      if (hit) {
        if (scope !== undefined && hit.tenantId !== scope) throw new NotFoundError("client", clientId);
        return { accessToken: hit.accessToken, expiresAt: new Date(hit.expiresAt), scopes: hit.scopes, refreshed: false, source: "cache" };
      }
      // one flight per client and tenant scope: a caller never waits on another tenant's lookup
      return shared(`validate:${clientId}:${scope ?? "*"}`, () => slowPath(clientId, scope, caller.keyId));
    },

    async forceRefresh(clientId, caller) {
      const requestedAt = clock.now();
      const state = visible(await readState(dataSource.manager, clientId), tenantScope(caller), clientId);
      const invalid = statusError(state);
      if (invalid) throw invalid;
      await shared(`force:${clientId}`, () =>
        refresh(clientId, { mode: { kind: "force", requestedAt }, trigger: "force", actor: caller.keyId, ticket: cache.ticket(clientId) }),
      );
      const after = await readState(dataSource.manager, clientId);
      return metadataOf(visible(after, undefined, clientId));
    },

    async refreshIfDue(clientId, horizonMs) {
      const ticket = cache.ticket(clientId);
      try {
        const outcome = await refresh(clientId, {
          mode: { kind: "due", thresholdMs: horizonMs },
          trigger: "sweeper",
          actor: "system",
          ticket,
          skipLocked: true,
        });
        return outcome.refreshed ? "refreshed" : "fresh";
      } catch (err) {
        if (err instanceof NotFoundError) return "skipped";
        deps.logger.debug("sweeper could not refresh", { client_id: clientId, err });
        return "failed";
      }
    },
  };
}
