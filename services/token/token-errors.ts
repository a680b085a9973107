import { Code } from "@connectrpc/connect";
import { DecryptionError, type SecretBox } from "../../lib/crypto/index.js";
import type { Logger } from "../../lib/log/index.js";
import { DomainError, FailedPreconditionError } from "../../lib/errors/index.js";
import type { TokenState } from "./token-store.js";

/**
 * The answers a client's token state gives when no token can be handed out. Messages name the
 * client and what to do, never a token or Google's raw response.
 */

/** Google is failing and the current token is too close to expiry to hand out: retry later. */
export class RefreshCoolingDownError extends DomainError {
  constructor(clientId: string, lastError: string, retryAfterMs: number) {
    const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
    super(
      Code.Unavailable,
      `refreshing the token of client ${clientId} failed at Google${lastError ? ` (${lastError})` : ""}; retry in ${seconds} s`,
      { "retry-after": String(seconds) },
    );
  }
}

/** Why `state` cannot give a token at all, or undefined when it is connected with tokens. */
export function statusError(state: TokenState): DomainError | undefined {
  const id = state.clientId;
  switch (state.status) {
    case "connected":
      return state.hasTokens
        ? undefined
        : new FailedPreconditionError(`client ${id} has no stored tokens: complete the consent flow (StartOAuth)`);
    case "not_connected":
      return new FailedPreconditionError(`client ${id} is not connected: complete the consent flow (StartOAuth) first`);
    case "needs_reauth":
      return new FailedPreconditionError(
        `client ${id} needs re-consent: ${state.statusReason || "Google refused the refresh token"}; run the consent flow again (StartOAuth)`,
      );
    case "revoked":
      return new FailedPreconditionError(`client ${id} was revoked: run the consent flow again (StartOAuth) to reconnect`);
    default:
      return new FailedPreconditionError(`client ${id} is in an unknown state`);
  }
}

/** Cooldown after the n-th consecutive failure: exponential, capped, with ±20 % jitter so instances spread out. */
export function cooldownMs(failures: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const exponential = Math.min(maxMs, baseMs * 2 ** Math.max(0, Math.min(failures - 1, 30)));
  return Math.round(exponential * (0.8 + 0.4 * random()));
}

/**
 * Opens a sealed value; a value the configured keys cannot open (a key removed from
 * TOKEN_ENCRYPTION_KEY, a tampered row) becomes FAILED_PRECONDITION naming what to do, not INTERNAL.
 */
export function openSealed(secretBox: SecretBox, sealed: string, aad: string, what: string, logger?: Logger): string {
  try {
    return secretBox.open(sealed, aad);
  } catch (err) {
    if (!(err instanceof DecryptionError)) throw err;
    logger?.warn("stored secret cannot be decrypted", { what, err });
    throw new FailedPreconditionError(
      `${what} cannot be decrypted with the configured encryption keys; store it again (UpdateClient or the consent flow)`,
    );
  }
}
