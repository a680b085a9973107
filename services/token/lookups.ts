import type { EntityManager } from "typeorm";
import { tenantScope, type Caller } from "../../lib/auth/index.js";
import { NotFoundError } from "../../lib/rpc/index.js";
import { BranchRow, ClientRow } from "./entities/index.js";

/** A client the caller may see; another tenant's client is NOT_FOUND, exactly like a missing one. */
export async function findVisibleClient(manager: EntityManager, caller: Caller, id: string): Promise<ClientRow> {
  const scope = tenantScope(caller);
  const row = await manager.findOneBy(ClientRow, scope === undefined ? { id } : { id, tenantId: scope });
  if (!row) throw new NotFoundError("client", id);
  return row;
}

export async function findVisibleBranch(manager: EntityManager, caller: Caller, where: { id: string } | { branchId: string }): Promise<BranchRow> {
  const scope = tenantScope(caller);
  const row = await manager.findOneBy(BranchRow, scope === undefined ? where : { ...where, tenantId: scope });
  if (!row) throw "id" in where ? new NotFoundError("branch", where.id) : new NotFoundError("branch with branch_id", where.branchId);
  return row;
}

/** True for a Postgres unique violation, optionally of one named constraint. */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = err as { code?: string; constraint?: string; driverError?: { code?: string; constraint?: string } };
  const code = e?.driverError?.code ?? e?.code;
  const name = e?.driverError?.constraint ?? e?.constraint;
  return code === "23505" && (constraint === undefined || name === constraint);
}
