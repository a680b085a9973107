import type { MigrationInterface, QueryRunner } from "typeorm";

/** Tenants, API keys and the audit log: what authentication and auditing need in every service. */
export class Foundation1732200000001 implements MigrationInterface {
  name = "Foundation1732200000001";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE tenants (
      id uuid PRIMARY KEY,
      name varchar(200) NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT "UQ_tenants_name" UNIQUE (name))`);
    await q.query(`CREATE TABLE api_keys (
      id uuid PRIMARY KEY,
      tenant_id uuid NULL,
      role varchar(16) NOT NULL,
      name varchar(200) NOT NULL DEFAULT '',
      secret_hash varchar(64) NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      revoked_at timestamptz NULL,
      CONSTRAINT "FK_api_keys_tenant" FOREIGN KEY (tenant_id) REFERENCES tenants(id) ON DELETE CASCADE,
      CONSTRAINT "CHK_api_keys_role" CHECK (role IN ('admin','operator','reader','service')),
      CONSTRAINT "CHK_api_keys_tenant" CHECK (role = 'admin' OR tenant_id IS NOT NULL))`);
    await q.query(`CREATE INDEX "IDX_api_keys_tenant" ON api_keys (tenant_id)`);
    await q.query(`CREATE TABLE audit_log (
      id bigserial PRIMARY KEY,
      created_at timestamptz NOT NULL DEFAULT now(),
      tenant_id uuid NULL,
      actor varchar(64) NOT NULL,
      action varchar(64) NOT NULL,
      target_type varchar(32) NOT NULL,
      target_id varchar(100) NOT NULL,
      details jsonb NOT NULL DEFAULT '{}'::jsonb)`);
    await q.query(`CREATE INDEX "IDX_audit_log_tenant_time" ON audit_log (tenant_id, created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query("DROP TABLE audit_log");
    await q.query("DROP TABLE api_keys");
    await q.query("DROP TABLE tenants");
  }
}
