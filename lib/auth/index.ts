export { hashSecret, mintApiKey, parseApiKey, sameHash, type MintedKey } from "./api-key.js";
export { createApiKeyStore, type ApiKeyStoreOptions, type Authenticator } from "./api-key-store.js";
export { callerKey, callerOf, canSee, JOB_ROLES, requireRole, tenantScope, TOKEN_READ_ROLES, WRITE_ROLES, type Caller } from "./caller.js";
export {
  BOOTSTRAP_ADMIN_KEY_ID,
  createConsoleSessionStore,
  csrfMatches,
  isSessionToken,
  type ConsoleSession,
  type ConsoleSessionStore,
} from "./console-sessions.js";
