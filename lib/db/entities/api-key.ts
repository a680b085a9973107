import { Column, CreateDateColumn, Entity, PrimaryColumn } from "typeorm";

export type RoleName = "admin" | "operator" | "reader" | "service";

/** An API key: only a SHA-256 hash of its secret part is stored (the secret is 256 random bits). */
@Entity({ name: "api_keys" })
export class ApiKeyRow {
  @PrimaryColumn({ type: "uuid" })
  id: string;

  @Column({ type: "uuid", name: "tenant_id", nullable: true })
  tenantId: string | null;

  @Column({ type: "varchar", length: 16 })
  role: RoleName;

  @Column({ type: "varchar", length: 200, default: "" })
  name: string;

  @Column({ type: "varchar", length: 64, name: "secret_hash" })
  secretHash: string;

  @CreateDateColumn({ type: "timestamptz", name: "created_at" })
  createdAt: Date;

  @Column({ type: "timestamptz", name: "revoked_at", nullable: true })
  revokedAt: Date | null;
}
