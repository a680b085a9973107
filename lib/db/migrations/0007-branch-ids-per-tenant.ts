import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Branch ids are the business's own, so they are unique within a tenant, not across tenants:
 * a global constraint told tenant B (409) that tenant A has a branch `sec-A-1`, and let one
 * tenant squat another business's ids. Lookups by branch id alone (admin keys) keep an index.
 * Owned by services/token.
 */
export class BranchIdsPerTenant1732200000007 implements MigrationInterface {
  name = "BranchIdsPerTenant1732200000007";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE branches DROP CONSTRAINT "UQ_branches_branch_id"`);
    await q.query(`ALTER TABLE branches ADD CONSTRAINT "UQ_branches_tenant_branch_id" UNIQUE (tenant_id, branch_id)`);
    await q.query(`CREATE INDEX "IDX_branches_branch_id" ON branches (branch_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    // fails, as it should, once two tenants share a branch id
    await q.query(`DROP INDEX "IDX_branches_branch_id"`);
    await q.query(`ALTER TABLE branches DROP CONSTRAINT "UQ_branches_tenant_branch_id"`);
    await q.query(`ALTER TABLE branches ADD CONSTRAINT "UQ_branches_branch_id" UNIQUE (branch_id)`);
  }
}
