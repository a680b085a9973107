import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * The console's sign-in sessions, owned by services/gateway (console) and read by every service's
 * key check (lib/auth/console-sessions.ts), so a session works on any gateway instance and
 * sign-out anywhere ends it everywhere.
 *
 * - id_hash: SHA-256 of the session token (the cookie holds the token; the table never does);
 * - api_key_id: the key signed in with; NULL for ADMIN_API_KEY, which has no row. Role and tenant
 *   are read from the key at every check, so revoking (or deleting) the key ends its sessions;
 * - csrf_secret: what the console must echo in X-CSRF-Token on state-changing calls;
 * - expires_at: sessions are short-lived; expired rows are refused and swept on sign-in.
 */
export class ConsoleSessions1732200000011 implements MigrationInterface {
  name = "ConsoleSessions1732200000011";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE console_sessions (
      id_hash varchar(64) PRIMARY KEY,
      api_key_id uuid NULL,
      csrf_secret varchar(64) NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz NOT NULL,
      CONSTRAINT "FK_console_sessions_api_key" FOREIGN KEY (api_key_id) REFERENCES api_keys(id) ON DELETE CASCADE)`);
    await q.query(`CREATE INDEX "IDX_console_sessions_api_key" ON console_sessions (api_key_id)`);
    await q.query(`CREATE INDEX "IDX_console_sessions_expires" ON console_sessions (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query("DROP TABLE IF EXISTS console_sessions");
  }
}
