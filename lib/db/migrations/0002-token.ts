import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * TokenService tables: clients, branches, tokens, oauth_states, oauth_login_links. Owned by
 * services/token. Secrets (client secret, tokens, PKCE verifier) are stored sealed by SecretBox
 * (`v1.<key id>.<iv>.<tag>.<ciphertext>`); one-time proofs (state, login link) only as SHA-256.
 */
export class Token1732200000002 implements MigrationInterface {
  name = "Token1732200000002";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE clients (
      id uuid PRIMARY KEY,
      tenant_id uuid NOT NULL,
      name varchar(200) NOT NULL,
      google_client_id varchar(255) NOT NULL,
      client_secret text NOT NULL,
      redirect_uri varchar(2048) NOT NULL,
      scopes text[] NOT NULL,
      status varchar(16) NOT NULL DEFAULT 'not_connected',
      status_reason varchar(500) NOT NULL DEFAULT '',
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT "FK_clients_tenant" FOREIGN KEY (tenant_id) REFERENCES tenants(id) ON DELETE CASCADE,
      CONSTRAINT "CHK_clients_status" CHECK (status IN ('not_connected','connected','needs_reauth','revoked')))`);
    await q.query(`CREATE INDEX "IDX_clients_tenant_created" ON clients (tenant_id, created_at, id)`);
    await q.query(`CREATE INDEX "IDX_clients_created" ON clients (created_at, id)`);

    await q.query(`CREATE TABLE branches (
      id uuid PRIMARY KEY,
      tenant_id uuid NOT NULL,
      client_id uuid NOT NULL,
      branch_id varchar(100) NOT NULL,
      name varchar(200) NOT NULL,
      account_id varchar(64) NOT NULL,
      location_id varchar(64) NOT NULL,
      manager_email varchar(320) NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT "FK_branches_tenant" FOREIGN KEY (tenant_id) REFERENCES tenants(id) ON DELETE CASCADE,
      CONSTRAINT "FK_branches_client" FOREIGN KEY (client_id) REFERENCES clients(id) ON DELETE CASCADE,
      CONSTRAINT "UQ_branches_branch_id" UNIQUE (branch_id))`);
    await q.query(`CREATE INDEX "IDX_branches_client" ON branches (client_id, created_at, id)`);
    await q.query(`CREATE INDEX "IDX_branches_tenant_created" ON branches (tenant_id, created_at, id)`);
    await q.query(`CREATE INDEX "IDX_branches_created" ON branches (created_at, id)`);

    // One row per connected client. The row is also the cross-instance refresh lock
    // (SELECT ... FOR UPDATE), and retry_after is the shared cooldown after Google failed.
    await q.query(`CREATE TABLE tokens (
      client_id uuid PRIMARY KEY,
      access_token text NOT NULL,
      refresh_token text NULL,
      token_type varchar(32) NOT NULL DEFAULT 'Bearer',
      scopes text[] NOT NULL,
      expires_at timestamptz NOT NULL,
      connected_at timestamptz NOT NULL,
      last_refresh_at timestamptz NULL,
      refresh_count bigint NOT NULL DEFAULT 0,
      last_error varchar(500) NOT NULL DEFAULT '',
      failure_count integer NOT NULL DEFAULT 0,
      retry_after timestamptz NULL,
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT "FK_tokens_client" FOREIGN KEY (client_id) REFERENCES clients(id) ON DELETE CASCADE)`);
    await q.query(`CREATE INDEX "IDX_tokens_expires" ON tokens (expires_at)`);

    await q.query(`CREATE TABLE oauth_states (
      id uuid PRIMARY KEY,
      state_hash varchar(64) NOT NULL,
      client_id uuid NOT NULL,
      code_verifier text NOT NULL,
      redirect_uri varchar(2048) NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz NOT NULL,
      used_at timestamptz NULL,
      CONSTRAINT "FK_oauth_states_client" FOREIGN KEY (client_id) REFERENCES clients(id) ON DELETE CASCADE,
      CONSTRAINT "UQ_oauth_states_hash" UNIQUE (state_hash))`);
    await q.query(`CREATE INDEX "IDX_oauth_states_client" ON oauth_states (client_id)`);
    await q.query(`CREATE INDEX "IDX_oauth_states_expires" ON oauth_states (expires_at)`);

    await q.query(`CREATE TABLE oauth_login_links (
      id uuid PRIMARY KEY,
      link_hash varchar(64) NOT NULL,
      client_id uuid NOT NULL,
      created_by varchar(64) NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz NOT NULL,
      used_at timestamptz NULL,
      CONSTRAINT "FK_oauth_login_links_client" FOREIGN KEY (client_id) REFERENCES clients(id) ON DELETE CASCADE,
      CONSTRAINT "UQ_oauth_login_links_hash" UNIQUE (link_hash))`);
    await q.query(`CREATE INDEX "IDX_oauth_login_links_client" ON oauth_login_links (client_id)`);
    await q.query(`CREATE INDEX "IDX_oauth_login_links_expires" ON oauth_login_links (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query("DROP TABLE oauth_login_links");
    await q.query("DROP TABLE oauth_states");
    await q.query("DROP TABLE tokens");
    await q.query("DROP TABLE branches");
    await q.query("DROP TABLE clients");
  }
}
