export { TEST_POSTGRES_URL, uniqueDatabaseUrl, useTestDatabase, type TestDatabase } from "./database.js";
export { captureLogs } from "./logs.js";
export { TEST_NATS_URL, uniqueNamespace, useTestStreams, type TestStreams } from "./streams.js";
export { TEST_ADMIN_KEY, TEST_ENCRYPTION_KEY, testConfig } from "./config.js";
export { FORGED_PAGE_TOKENS, JUNK_ACCESS_TOKENS, NUL } from "./hostile-input.js";
export { rejectsWith } from "./rpc-errors.js";
export { pause, until } from "./waiting.js";
