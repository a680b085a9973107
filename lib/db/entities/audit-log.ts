import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from "typeorm";

/** Who changed what: one row per client, branch, consent, token or key change. Never holds secrets. */
@Entity({ name: "audit_log" })
export class AuditLogRow {
  @PrimaryGeneratedColumn({ type: "bigint" })
  id: string;

  @CreateDateColumn({ type: "timestamptz", name: "created_at" })
  createdAt: Date;

  @Column({ type: "uuid", name: "tenant_id", nullable: true })
  tenantId: string | null;

  /** The API key id that acted, `bootstrap-admin`, `google` or `system`. */
  @Column({ type: "varchar", length: 64 })
  actor: string;

  /** e.g. `client.create`, `token.refresh`, `oauth.complete`, `api_key.revoke`. */
  @Column({ type: "varchar", length: 64 })
  action: string;

  @Column({ type: "varchar", length: 32, name: "target_type" })
  targetType: string;

  @Column({ type: "varchar", length: 100, name: "target_id" })
  targetId: string;

  @Column({ type: "jsonb", default: () => "'{}'::jsonb" })
  details: Record<string, unknown>;
}
