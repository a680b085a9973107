import { loadConfig, type Config } from "../../lib/config/index.js";

/** A fixed 32-byte key for tests only (base64). Never used outside tests. */
export const TEST_ENCRYPTION_KEY = Buffer.alloc(32, 7).toString("base64");

/** The ADMIN_API_KEY of every service a test starts; tests only, like the key above. */
export const TEST_ADMIN_KEY = "test-admin-key-0123456789abcdef";

/** A config for tests: defaults plus overrides, parsed by the real loader. */
export function testConfig(env: Record<string, string | undefined> = {}): Readonly<Config> {
  return loadConfig({ TOKEN_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY, LOG_LEVEL: "error", ...env });
}
