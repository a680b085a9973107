import { randomUUID } from "node:crypto";
import { callerOf, requireRole, tenantScope, WRITE_ROLES } from "../../../lib/auth/index.js";
import { isUniqueViolation, writeAudit } from "../../../lib/db/index.js";
import { AlreadyExistsError } from "../../../lib/errors/index.js";
import { toBranch } from "../convert.js";
import type { TokenHandlers, TokenServiceDeps } from "../deps.js";
import { BranchRow } from "../entities/index.js";
import { findBranchByBranchId, findVisibleBranch, findVisibleClient } from "../lookups.js";
import { pageOf } from "../paging.js";

/** CreateBranch, GetBranch, GetBranchByBranchId, ListBranches, UpdateBranch, DeleteBranch. */
export function createBranchHandlers(deps: TokenServiceDeps): TokenHandlers {
  const { dataSource, clock } = deps;

  // only ever about the caller's own tenant: another tenant's branch ids are none of its business
  const duplicate = (branchId: string) => new AlreadyExistsError(`a branch with branch_id "${branchId}" already exists in this tenant`);

  return {
    async createBranch(req, ctx) {
      const caller = callerOf(ctx);
      requireRole(caller, WRITE_ROLES, "create branches");
      // the branch belongs to its client's tenant; a client the caller cannot see is NOT_FOUND
      const client = await findVisibleClient(dataSource.manager, caller, req.clientId);
      const now = new Date(clock.now());
      const row: BranchRow = Object.assign(new BranchRow(), {
        id: randomUUID(),
        tenantId: client.tenantId,
        clientId: client.id,
        branchId: req.branchId,
        name: req.name,
        accountId: req.accountId,
        locationId: req.locationId,
        managerEmail: req.managerEmail,
        createdAt: now,
        updatedAt: now,
      });
      try {
        await dataSource.transaction(async (m) => {
          await m.insert(BranchRow, row);
          await writeAudit(m, {
            tenantId: row.tenantId,
            actor: caller.keyId,
            action: "branch.create",
            targetType: "branch",
            targetId: row.id,
            details: { branch_id: row.branchId, client_id: row.clientId },
          });
        });
      } catch (err) {
        if (isUniqueViolation(err, "UQ_branches_tenant_branch_id")) throw duplicate(req.branchId);
        throw err;
      }
      return { branch: toBranch(row) };
    },

    async getBranch(req, ctx) {
      return { branch: toBranch(await findVisibleBranch(dataSource.manager, callerOf(ctx), { id: req.id })) };
    },

    async getBranchByBranchId(req, ctx) {
      return { branch: toBranch(await findBranchByBranchId(dataSource.manager, callerOf(ctx), req.branchId, req.tenantId || undefined)) };
    },

    async listBranches(req, ctx) {
      const caller = callerOf(ctx);
      const scope = tenantScope(caller);
      // filtering by a client the caller cannot see says so, rather than answering an empty list
      if (req.clientId) await findVisibleClient(dataSource.manager, caller, req.clientId);
      const qb = dataSource.getRepository(BranchRow).createQueryBuilder("b").where("TRUE");
      if (scope !== undefined) qb.andWhere("b.tenant_id = :tenantId", { tenantId: scope });
      if (req.clientId) qb.andWhere("b.client_id = :clientId", { clientId: req.clientId });
      const page = await pageOf(qb, "b", req);
      return { branches: page.rows.map(toBranch), nextPageToken: page.nextPageToken };
    },

    async updateBranch(req, ctx) {
      const caller = callerOf(ctx);
      requireRole(caller, WRITE_ROLES, "change branches");
      const row = await findVisibleBranch(dataSource.manager, caller, { id: req.id });
      const changed: string[] = [];
      if (req.name !== undefined) {
        row.name = req.name;
        changed.push("name");
      }
      if (req.accountId !== undefined) {
        row.accountId = req.accountId;
        changed.push("account_id");
      }
      if (req.locationId !== undefined) {
        row.locationId = req.locationId;
        changed.push("location_id");
      }
      if (req.managerEmail !== undefined) {
        row.managerEmail = req.managerEmail;
        changed.push("manager_email");
      }
      if (changed.length === 0) return { branch: toBranch(row) };
      row.updatedAt = new Date(clock.now());
      await dataSource.transaction(async (m) => {
        await m.update(
          BranchRow,
          { id: row.id },
          {
            name: row.name,
            accountId: row.accountId,
            locationId: row.locationId,
            managerEmail: row.managerEmail,
            updatedAt: row.updatedAt,
          },
        );
        await writeAudit(m, {
          tenantId: row.tenantId,
          actor: caller.keyId,
          action: "branch.update",
          targetType: "branch",
          targetId: row.id,
          details: { fields: changed },
        });
      });
      return { branch: toBranch(row) };
    },

    async deleteBranch(req, ctx) {
      const caller = callerOf(ctx);
      requireRole(caller, WRITE_ROLES, "delete branches");
      const row = await findVisibleBranch(dataSource.manager, caller, { id: req.id });
      await dataSource.transaction(async (m) => {
        await m.delete(BranchRow, { id: row.id });
        await writeAudit(m, {
          tenantId: row.tenantId,
          actor: caller.keyId,
          action: "branch.delete",
          targetType: "branch",
          targetId: row.id,
          details: { branch_id: row.branchId },
        });
      });
      return {};
    },
  };
}
