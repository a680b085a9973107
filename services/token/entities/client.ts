import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from "typeorm";
import { TenantRow } from "../../../lib/db/entities/tenant.js";

export type ClientStatus = "not_connected" | "connected" | "needs_reauth" | "revoked";

/**
 * A Google OAuth client (one Cloud project) registered by a tenant, and the one Google grant
 * connected through it. `clientSecret` is sealed. The same Google client id may appear on several
 * rows: one OAuth app can connect several businesses' Google accounts.
 */
@Entity({ name: "clients" })
@Check("CHK_clients_status", `status IN ('not_connected','connected','needs_reauth','revoked')`)
@Index("IDX_clients_tenant_created", ["tenantId", "createdAt", "id"])
@Index("IDX_clients_created", ["createdAt", "id"])
export class ClientRow {
  @PrimaryColumn({ type: "uuid" })
  id: string;

  @Column({ type: "uuid", name: "tenant_id" })
  tenantId: string;

  @ManyToOne(() => TenantRow, { onDelete: "CASCADE", createForeignKeyConstraints: true })
  @JoinColumn({ name: "tenant_id", foreignKeyConstraintName: "FK_clients_tenant" })
  tenant?: TenantRow;

  @Column({ type: "varchar", length: 200 })
  name: string;

  @Column({ type: "varchar", length: 255, name: "google_client_id" })
  googleClientId: string;

  /** SecretBox-sealed, bound to the client id; never returned. */
  @Column({ type: "text", name: "client_secret" })
  clientSecret: string;

  @Column({ type: "varchar", length: 2048, name: "redirect_uri" })
  redirectUri: string;

  @Column({ type: "text", array: true })
  scopes: string[];

  @Column({ type: "varchar", length: 16, default: "not_connected" })
  status: ClientStatus;

  /** Why the client needs re-consent (Google's error description), free of secrets. */
  @Column({ type: "varchar", length: 500, name: "status_reason", default: "" })
  statusReason: string;

  @Column({ type: "timestamptz", name: "created_at", default: () => "now()" })
  createdAt: Date;

  @Column({ type: "timestamptz", name: "updated_at", default: () => "now()" })
  updatedAt: Date;
}
