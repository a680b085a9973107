import type { EntityManager } from "typeorm";
import { AuditLogRow } from "./entities/audit-log.js";

export interface AuditEntry {
  tenantId: string | null;
  actor: string;
  action: string;
  targetType: string;
  targetId: string;
  /** Facts about the change; never secrets (they are redacted by callers, not here). */
  details?: Record<string, unknown>;
}

/** Appends an audit row inside the caller's transaction, so the change and its record commit together. */
export async function writeAudit(manager: EntityManager, entry: AuditEntry): Promise<void> {
  await manager.insert(AuditLogRow, { ...entry, details: (entry.details ?? {}) as never });
}
