import { ApiKeyRow } from "./api-key.js";
import { AuditLogRow } from "./audit-log.js";
import { TenantRow } from "./tenant.js";

export { ApiKeyRow, AuditLogRow, TenantRow };
export type { RoleName } from "./api-key.js";

/** Tables every service reads: tenants and API keys (auth) and the audit log. */
export const foundationEntities = [TenantRow, ApiKeyRow, AuditLogRow];
