import type { EntityManager } from "typeorm";
import { tenantScope, type Caller } from "../../lib/auth/index.js";
import { FailedPreconditionError, NotFoundError } from "../../lib/errors/index.js";
import { BranchRow, ClientRow } from "./entities/index.js";

/** A client the caller may see; another tenant's client is NOT_FOUND, exactly like a missing one. */
export async function findVisibleClient(manager: EntityManager, caller: Caller, id: string): Promise<ClientRow> {
  const scope = tenantScope(caller);
  const row = await manager.findOneBy(ClientRow, scope === undefined ? { id } : { id, tenantId: scope });
  if (!row) throw new NotFoundError("client", id);
  return row;
}

export async function findVisibleBranch(manager: EntityManager, caller: Caller, where: { id: string }): Promise<BranchRow> {
  const scope = tenantScope(caller);
  const row = await manager.findOneBy(BranchRow, scope === undefined ? where : { ...where, tenantId: scope });
  if (!row) throw new NotFoundError("branch", where.id);
  return row;
}

/**
 * A branch by the business's own id, which is unique per tenant: looked up within the caller's
 * tenant (naming another tenant is NOT_FOUND, like a missing branch), or within `tenantId` for
 * admin keys, which must name it when several tenants use the id.
 */
export async function findBranchByBranchId(
  manager: EntityManager,
  caller: Caller,
  branchId: string,
  tenantId?: string,
): Promise<BranchRow> {
  const scope = tenantScope(caller);
  const missing = () => new NotFoundError("branch with branch_id", branchId);
  if (scope !== undefined && tenantId && tenantId !== scope) throw missing();
  const tenant = scope ?? tenantId;
  const rows = await manager.find(BranchRow, { where: tenant === undefined ? { branchId } : { branchId, tenantId: tenant }, take: 2 });
  if (rows.length === 0) throw missing();
  if (rows.length > 1)
    throw new FailedPreconditionError(
      `branch_id "${branchId}" is used by several tenants: name the tenant, or use the branch's reviewflow id`,
    );
  return rows[0];
}
