export { writeAudit, type AuditEntry } from "./audit.js";
export { openDatabase, runMigrations, type DatabaseOptions } from "./data-source.js";
export { dropDatabase, ensureDatabase } from "./ensure-database.js";
export { isUniqueViolation, sqlState, SQLSTATE } from "./postgres-errors.js";
export { dedicatedPool, sessionClient, sharedPool, type DedicatedPoolOptions } from "./pools.js";
export { ApiKeyRow, AuditLogRow, foundationEntities, TenantRow, type RoleName } from "./entities/index.js";
export { migrations } from "./migrations/index.js";
export { isBigintId, isTimestamp, isUuid, UUID_PATTERN } from "./postgres-values.js";
