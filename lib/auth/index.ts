export { hashSecret, mintApiKey, parseApiKey, sameHash, type MintedKey } from "./api-key.js";
export { createApiKeyStore, type ApiKeyStoreOptions, type Authenticator } from "./api-key-store.js";
export {
  callerKey,
  callerOf,
  canSee,
  JOB_ROLES,
  requireRole,
  tenantScope,
  TOKEN_READ_ROLES,
  WRITE_ROLES,
  type Caller,
} from "./caller.js";
