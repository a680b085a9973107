import type { DataSource } from "typeorm";
import { ApiKeyRow } from "../db/entities/api-key.js";
import { hashSecret, parseApiKey, sameHash } from "./api-key.js";
import type { Caller } from "./caller.js";
import { createConsoleSessionStore, isSessionToken, type ConsoleSessionStore } from "./console-sessions.js";

export interface Authenticator {
  /** The caller a presented key stands for, or undefined when the key is unknown, malformed or revoked. */
  authenticate(key: string): Promise<Caller | undefined>;
}

export interface ApiKeyStoreOptions {
  dataSource: DataSource;
  /** ADMIN_API_KEY: accepted as an admin key without a row. */
  bootstrapAdminKey?: string;
  /** How long a looked-up key is trusted before re-reading it (revocation latency). */
  cacheMs?: number;
  /** Console sessions, accepted as the key they were signed in with (default: the table in `dataSource`). */
  sessions?: ConsoleSessionStore;
}

/**
 * Authenticates API keys against the shared `api_keys` table, with a short cache for the hot path.
 * A console session token (what the gateway forwards for a session cookie) stands for the key it
 * was signed in with, with that key's role and tenant.
 */
export function createApiKeyStore(options: ApiKeyStoreOptions): Authenticator {
  const cacheMs = options.cacheMs ?? 5_000;
  const bootstrapHash = options.bootstrapAdminKey ? hashSecret(options.bootstrapAdminKey) : undefined;
  // by key id: the row's hash and what it stands for (undefined row = unknown or revoked id)
  const cache = new Map<string, { row: { hash: string; caller: Caller } | undefined; until: number }>();
  const repo = options.dataSource.getRepository(ApiKeyRow);
  const sessions =
    options.sessions ??
    createConsoleSessionStore({ dataSource: options.dataSource, cacheMs, allowBootstrapAdmin: bootstrapHash !== undefined });
  return {
    async authenticate(key) {
      if (isSessionToken(key)) return (await sessions.lookup(key))?.caller;
      if (bootstrapHash && sameHash(hashSecret(key), bootstrapHash)) {
        return { keyId: "bootstrap-admin", role: "admin", tenantId: null };
      }
      const parsed = parseApiKey(key);
      if (!parsed) return undefined;
      const hash = hashSecret(parsed.secret);
      const now = Date.now();
      let cached = cache.get(parsed.id);
      if (!cached || cached.until <= now) {
        const found = await repo.findOneBy({ id: parsed.id });
        cached = {
          row:
            found && !found.revokedAt
              ? { hash: found.secretHash, caller: { keyId: found.id, role: found.role, tenantId: found.tenantId } }
              : undefined,
          until: now + cacheMs,
        };
        if (cache.size > 10_000) cache.clear();
        cache.set(parsed.id, cached);
      }
      return cached.row && sameHash(cached.row.hash, hash) ? cached.row.caller : undefined;
    },
  };
}
