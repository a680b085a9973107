import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, Unique } from "typeorm";
import { TenantRow } from "../../../lib/db/entities/tenant.js";
import { ClientRow } from "./client.js";

/** A business branch: one Google Business Profile location reached through a client's grant. */
@Entity({ name: "branches" })
// branch ids are the business's own: unique within a tenant, free in every other (migration 0007)
@Unique("UQ_branches_tenant_branch_id", ["tenantId", "branchId"])
@Index("IDX_branches_branch_id", ["branchId"])
@Index("IDX_branches_client", ["clientId", "createdAt", "id"])
@Index("IDX_branches_tenant_created", ["tenantId", "createdAt", "id"])
@Index("IDX_branches_created", ["createdAt", "id"])
export class BranchRow {
  @PrimaryColumn({ type: "uuid" })
  id: string;

  @Column({ type: "uuid", name: "tenant_id" })
  tenantId: string;

  @ManyToOne(() => TenantRow, { onDelete: "CASCADE" })
  @JoinColumn({ name: "tenant_id", foreignKeyConstraintName: "FK_branches_tenant" })
  tenant?: TenantRow;

  @Column({ type: "uuid", name: "client_id" })
  clientId: string;

  @ManyToOne(() => ClientRow, { onDelete: "CASCADE" })
  @JoinColumn({ name: "client_id", foreignKeyConstraintName: "FK_branches_client" })
  client?: ClientRow;

  @Column({ type: "varchar", length: 100, name: "branch_id" })
  branchId: string;

  @Column({ type: "varchar", length: 200 })
  name: string;

  @Column({ type: "varchar", length: 64, name: "account_id" })
  accountId: string;

  @Column({ type: "varchar", length: 64, name: "location_id" })
  locationId: string;

  @Column({ type: "varchar", length: 320, name: "manager_email" })
  managerEmail: string;

  @Column({ type: "timestamptz", name: "created_at", default: () => "now()" })
  createdAt: Date;

  @Column({ type: "timestamptz", name: "updated_at", default: () => "now()" })
  updatedAt: Date;
}
