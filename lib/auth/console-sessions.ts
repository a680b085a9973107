// Console sign-in sessions: an API key exchanged for a short-lived session token that a browser
// keeps in an HttpOnly cookie (browsers cannot send API keys). Rows live in Postgres
// (console_sessions, migration 0011), so every gateway instance and every service accepts the
// same session, and sign-out, expiry or revoking the key ends it everywhere.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { DataSource } from "typeorm";
import type { RoleName } from "../db/entities/api-key.js";
import type { Caller } from "./caller.js";

/** Session tokens look like `rfs_<43 chars of base64url>` (256 random bits), so they never pass for an API key. */
const TOKEN_SHAPE = /^rfs_[A-Za-z0-9_-]{43}$/;
export const BOOTSTRAP_ADMIN_KEY_ID = "bootstrap-admin";

export interface ConsoleSession {
  caller: Caller;
  /** Sent back by the console in X-CSRF-Token on state-changing calls. */
  csrfToken: string;
  expiresAt: Date;
}

export interface ConsoleSessionStore {
  /** A new session for an authenticated caller: the token goes into the cookie, nowhere else. */
  create(caller: Caller): Promise<{ token: string; session: ConsoleSession }>;
  /** The live session a token stands for (undefined: unknown, expired, signed out, or its key revoked). */
  lookup(token: string): Promise<ConsoleSession | undefined>;
  /** Sign-out: the row is deleted, the local cache forgets it at once. */
  end(token: string): Promise<void>;
}

export function isSessionToken(value: string): boolean {
  return TOKEN_SHAPE.test(value);
}

/** Constant-time check of a presented CSRF token against the session's. */
export function csrfMatches(session: ConsoleSession, presented: string | undefined): boolean {
  if (!presented) return false;
  const a = Buffer.from(session.csrfToken);
  const b = Buffer.from(presented);
  return a.length === b.length && timingSafeEqual(a, b);
}

const hashToken = (token: string) => createHash("sha256").update(token).digest("hex");

interface SessionRow {
  api_key_id: string | null;
  csrf_secret: string;
  expires_at: Date;
  role: RoleName | null;
  tenant_id: string | null;
}

/**
 * `cacheMs` bounds how long another instance may still accept a session after sign-out or a key
 * revocation elsewhere (the same latency API keys have); on the instance that signs out, at once.
 */
export function createConsoleSessionStore(options: {
  dataSource: DataSource;
  ttlMs?: number;
  cacheMs?: number;
  allowBootstrapAdmin?: boolean;
}): ConsoleSessionStore {
  const ttlMs = options.ttlMs ?? 60 * 60_000;
  const cacheMs = options.cacheMs ?? 5_000;
  const cache = new Map<string, { session: ConsoleSession | undefined; until: number }>();
  const db = options.dataSource;
  return {
    async create(caller) {
      const token = `rfs_${randomBytes(32).toString("base64url")}`;
      const csrfToken = randomBytes(32).toString("base64url");
      const expiresAt = new Date(Date.now() + ttlMs);
      const keyId = caller.keyId === BOOTSTRAP_ADMIN_KEY_ID ? null : caller.keyId;
      // sign-in is rare: sweeping expired rows here keeps the table small without a timer
      await db.query("DELETE FROM console_sessions WHERE expires_at < now() - interval '1 day'");
      await db.query("INSERT INTO console_sessions (id_hash, api_key_id, csrf_secret, expires_at) VALUES ($1, $2, $3, $4)", [
        hashToken(token),
        keyId,
        csrfToken,
        expiresAt,
      ]);
      return { token, session: { caller, csrfToken, expiresAt } };
    },
    async lookup(token) {
      if (!isSessionToken(token)) return undefined;
      const id = hashToken(token);
      const now = Date.now();
      const cached = cache.get(id);
      if (cached && cached.until > now) return cached.session && cached.session.expiresAt.getTime() > now ? cached.session : undefined;
      const rows = (await db.query(
        `SELECT s.api_key_id, s.csrf_secret, s.expires_at, k.role, k.tenant_id
           FROM console_sessions s LEFT JOIN api_keys k ON k.id = s.api_key_id
          WHERE s.id_hash = $1 AND s.expires_at > now() AND (s.api_key_id IS NULL OR k.revoked_at IS NULL)`,
        [id],
      )) as SessionRow[];
      const row = rows[0];
      let session: ConsoleSession | undefined;
      if (row && row.api_key_id === null && options.allowBootstrapAdmin) {
        session = {
          caller: { keyId: BOOTSTRAP_ADMIN_KEY_ID, role: "admin", tenantId: null },
          csrfToken: row.csrf_secret,
          expiresAt: new Date(row.expires_at),
        };
      } else if (row && row.api_key_id !== null && row.role) {
        session = {
          caller: { keyId: row.api_key_id, role: row.role, tenantId: row.tenant_id },
          csrfToken: row.csrf_secret,
          expiresAt: new Date(row.expires_at),
        };
      }
      if (cache.size > 10_000) cache.clear();
      cache.set(id, { session, until: now + cacheMs });
      return session;
    },
    async end(token) {
      if (!isSessionToken(token)) return;
      const id = hashToken(token);
      cache.delete(id);
      await db.query("DELETE FROM console_sessions WHERE id_hash = $1", [id]);
    },
  };
}
