/**
 * Decrypted access tokens kept in memory, so a valid token is served without a database round
 * trip. Staleness is bounded three ways: an entry is served only until its `serveUntil` (before
 * the refresh window, and at most `ttlMs` after it was read); changes made by this instance evict
 * it directly; changes made by other instances arrive over Postgres LISTEN/NOTIFY and evict it.
 * While the listener is down the cache is disabled, so a missed notification cannot keep a
 * revoked token alive.
 */
export interface CachedToken {
  accessToken: string;
  tenantId: string;
  expiresAt: number;
  scopes: string[];
  /** Last instant (epoch ms) this entry may be served. */
  serveUntil: number;
}

/** A snapshot taken before reading the database: a fill is refused if anything was evicted since. */
export interface CacheTicket {
  epoch: number;
  generation: number;
}

export interface TokenCache {
  get(clientId: string, now: number): CachedToken | undefined;
  ticket(clientId: string): CacheTicket;
  /** Stores `entry` unless the client was evicted (or the cache cleared) after `ticket` was taken. */
  put(clientId: string, ticket: CacheTicket, entry: CachedToken, now: number): void;
  evict(clientId: string): void;
  /** Drops everything and stops caching until `enable()` (the invalidation listener is down). */
  disable(): void;
  enable(): void;
  readonly size: number;
}

export function createTokenCache(options: { ttlMs: number; maxEntries?: number }): TokenCache {
  const maxEntries = options.maxEntries ?? 100_000;
  const entries = new Map<string, CachedToken>();
  const generations = new Map<string, number>();
  let epoch = 0;
  let enabled = false;
  return {
    get(clientId, now) {
      const entry = entries.get(clientId);
      if (!entry) return undefined;
      if (now >= entry.serveUntil) {
        entries.delete(clientId);
        return undefined;
      }
      return entry;
    },
    ticket(clientId) {
      return { epoch, generation: generations.get(clientId) ?? 0 };
    },
    put(clientId, ticket, entry, now) {
      if (!enabled || options.ttlMs <= 0) return;
      if (ticket.epoch !== epoch || ticket.generation !== (generations.get(clientId) ?? 0)) return;
      if (entries.size >= maxEntries) entries.clear();
      entries.set(clientId, { ...entry, serveUntil: Math.min(entry.serveUntil, now + options.ttlMs) });
    },
    evict(clientId) {
      entries.delete(clientId);
      generations.set(clientId, (generations.get(clientId) ?? 0) + 1);
    },
    disable() {
      enabled = false;
      epoch += 1;
      entries.clear();
      generations.clear();
    },
    enable() {
      enabled = true;
    },
    get size() {
      return entries.size;
    },
  };
}
