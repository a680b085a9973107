import type { EntityManager } from "typeorm";
import type { SecretBox } from "../../lib/crypto/index.js";
import { TOKEN_CHANGES_CHANNEL } from "./cache-invalidation.js";
import type { TokenMetadata } from "./convert.js";
import type { ClientStatus } from "./entities/index.js";
import type { GoogleTokens } from "./google-oauth.js";
import { aad } from "./secrets.js";

/**
 * SQL for the tokens table. Token values go in sealed and come out opened only here; the
 * refresh lock is the token row itself (SELECT ... FOR UPDATE), so every change to a client's
 * tokens (refresh, revoke, re-consent, deletion by cascade) is serialised on that row.
 */

/** A client with its token row (token fields are null when there is none). Values still sealed. */
export interface TokenState {
  clientId: string;
  tenantId: string;
  status: ClientStatus;
  statusReason: string;
  googleClientId: string;
  sealedClientSecret: string;
  hasTokens: boolean;
  sealedAccessToken: string | null;
  sealedRefreshToken: string | null;
  tokenType: string;
  scopes: string[];
  expiresAt: Date | null;
  connectedAt: Date | null;
  lastRefreshAt: Date | null;
  refreshCount: number;
  lastError: string;
  failureCount: number;
  retryAfter: Date | null;
}

interface StateRow {
  client_id: string;
  tenant_id: string;
  status: ClientStatus;
  status_reason: string;
  google_client_id: string;
  client_secret: string;
  t_client_id: string | null;
  access_token: string | null;
  refresh_token: string | null;
  token_type: string | null;
  scopes: string[] | null;
  expires_at: Date | null;
  connected_at: Date | null;
  last_refresh_at: Date | null;
  refresh_count: string | null;
  last_error: string | null;
  failure_count: number | null;
  retry_after: Date | null;
}

const STATE_COLUMNS = `c.id AS client_id, c.tenant_id, c.status, c.status_reason, c.google_client_id, c.client_secret,
  t.client_id AS t_client_id, t.access_token, t.refresh_token, t.token_type, t.scopes, t.expires_at, t.connected_at,
  t.last_refresh_at, t.refresh_count, t.last_error, t.failure_count, t.retry_after`;

/** UPDATE/DELETE answers [rows, count] through TypeORM, SELECT/INSERT answers rows. */
export async function queryRows<T>(manager: EntityManager, text: string, params: unknown[]): Promise<T[]> {
  const raw = (await manager.query(text, params)) as unknown;
  if (Array.isArray(raw) && raw.length === 2 && Array.isArray(raw[0]) && typeof raw[1] === "number") return raw[0] as T[];
  return raw as T[];
}

function toState(row: StateRow): TokenState {
  return {
    clientId: row.client_id,
    tenantId: row.tenant_id,
    status: row.status,
    statusReason: row.status_reason,
    googleClientId: row.google_client_id,
    sealedClientSecret: row.client_secret,
    hasTokens: row.t_client_id !== null,
    sealedAccessToken: row.access_token,
    sealedRefreshToken: row.refresh_token,
    tokenType: row.token_type ?? "Bearer",
    scopes: row.scopes ?? [],
    expiresAt: row.expires_at,
    connectedAt: row.connected_at,
    lastRefreshAt: row.last_refresh_at,
    refreshCount: Number(row.refresh_count ?? 0),
    lastError: row.last_error ?? "",
    failureCount: row.failure_count ?? 0,
    retryAfter: row.retry_after,
  };
}

/** Reads a client and its tokens without locking. */
export async function readState(manager: EntityManager, clientId: string): Promise<TokenState | undefined> {
  const rows = await queryRows<StateRow>(
    manager,
    `SELECT ${STATE_COLUMNS} FROM clients c LEFT JOIN tokens t ON t.client_id = c.id WHERE c.id = $1`,
    [clientId],
  );
  return rows[0] && toState(rows[0]);
}

/**
 * Locks the client's token row for the rest of the transaction and reads it. With `skipLocked`
 * (the sweeper) a row another instance is refreshing is skipped instead of waited for.
 * Undefined when there is no token row (or it was skipped).
 */
export async function lockState(manager: EntityManager, clientId: string, skipLocked = false): Promise<TokenState | undefined> {
  const rows = await queryRows<StateRow>(
    manager,
    `SELECT ${STATE_COLUMNS} FROM tokens t JOIN clients c ON c.id = t.client_id
     WHERE t.client_id = $1 FOR UPDATE OF t${skipLocked ? " SKIP LOCKED" : ""}`,
    [clientId],
  );
  return rows[0] && toState(rows[0]);
}

export function metadataOf(state: TokenState): TokenMetadata {
  return {
    clientId: state.clientId,
    status: state.status,
    expiresAt: state.expiresAt,
    scopes: state.scopes,
    lastRefreshAt: state.lastRefreshAt,
    refreshCount: state.refreshCount,
    hasRefreshToken: state.sealedRefreshToken !== null,
    lastError: state.lastError,
    connectedAt: state.connectedAt,
  };
}

/** Stores a fresh consent's tokens, keeping a stored refresh token when Google sent none. */
export async function upsertGrant(
  manager: EntityManager,
  secretBox: SecretBox,
  input: { clientId: string; tokens: GoogleTokens; now: Date },
): Promise<void> {
  const { clientId, tokens, now } = input;
  await manager.query(
    `INSERT INTO tokens (client_id, access_token, refresh_token, token_type, scopes, expires_at, connected_at,
       last_refresh_at, refresh_count, last_error, failure_count, retry_after, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, 0, '', 0, NULL, $7)
     ON CONFLICT (client_id) DO UPDATE SET
       access_token = EXCLUDED.access_token,
       refresh_token = COALESCE(EXCLUDED.refresh_token, tokens.refresh_token),
       token_type = EXCLUDED.token_type, scopes = EXCLUDED.scopes, expires_at = EXCLUDED.expires_at,
       connected_at = EXCLUDED.connected_at, last_refresh_at = NULL, refresh_count = 0, last_error = '',
       failure_count = 0, retry_after = NULL, updated_at = EXCLUDED.updated_at`,
    [
      clientId,
      secretBox.seal(tokens.accessToken, aad.accessToken(clientId)),
      tokens.refreshToken ? secretBox.seal(tokens.refreshToken, aad.refreshToken(clientId)) : null,
      tokens.tokenType,
      tokens.scopes,
      new Date(now.getTime() + tokens.expiresInMs),
      now,
    ],
  );
}

/** Stores a refreshed access token; a refresh token is replaced only when Google sent a new one. */
export async function saveRefreshed(
  manager: EntityManager,
  secretBox: SecretBox,
  input: { clientId: string; tokens: GoogleTokens; now: Date },
): Promise<Date> {
  const { clientId, tokens, now } = input;
  const expiresAt = new Date(now.getTime() + tokens.expiresInMs);
  await manager.query(
    `UPDATE tokens SET access_token = $2, refresh_token = COALESCE($3, refresh_token), token_type = $4,
       scopes = CASE WHEN cardinality($5::text[]) > 0 THEN $5::text[] ELSE scopes END,
       expires_at = $6, last_refresh_at = $7, refresh_count = refresh_count + 1, last_error = '',
       failure_count = 0, retry_after = NULL, updated_at = $7
     WHERE client_id = $1`,
    [
      clientId,
      secretBox.seal(tokens.accessToken, aad.accessToken(clientId)),
      tokens.refreshToken ? secretBox.seal(tokens.refreshToken, aad.refreshToken(clientId)) : null,
      tokens.tokenType,
      tokens.scopes,
      expiresAt,
      now,
    ],
  );
  return expiresAt;
}

/** Records a failed refresh and the cooldown before anyone may ask Google again. */
export async function recordFailure(
  manager: EntityManager,
  input: { clientId: string; error: string; retryAfter: Date | null; now: Date },
): Promise<void> {
  await manager.query(
    `UPDATE tokens SET last_error = $2, failure_count = failure_count + 1, retry_after = $3, updated_at = $4 WHERE client_id = $1`,
    [input.clientId, input.error.slice(0, 500), input.retryAfter, input.now],
  );
}

export async function setClientStatus(
  manager: EntityManager,
  input: { clientId: string; status: ClientStatus; reason: string; now: Date },
): Promise<void> {
  await manager.query(`UPDATE clients SET status = $2, status_reason = $3, updated_at = $4 WHERE id = $1`, [
    input.clientId,
    input.status,
    input.reason.slice(0, 500),
    input.now,
  ]);
}

export async function deleteTokens(manager: EntityManager, clientId: string): Promise<void> {
  await manager.query(`DELETE FROM tokens WHERE client_id = $1`, [clientId]);
}

/** Tells every instance (this one too) to drop its cached token; delivered at commit. */
export async function notifyChange(manager: EntityManager, clientId: string): Promise<void> {
  await manager.query(`SELECT pg_notify($1, $2)`, [TOKEN_CHANGES_CHANNEL, clientId]);
}
