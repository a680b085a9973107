// Which Google each client's grant came from, as `npm start` saw it (.run/google-grants.json): the
// TokenService only knows that a client is CONNECTED, not whether the emulator or the real Google
// granted it. A start against another Google than the one on record (or against the real one
// with no record at all) must not take that grant for a connection to this Google.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

export interface GrantOrigins {
  /** The Google (its OAuth URL) the client's grant came from, when recorded. */
  get(clientId: string): string | undefined;
  record(clientId: string, googleAuthUrl: string): void;
}

export function loadGrantOrigins(runDir: string): GrantOrigins {
  const file = path.join(runDir, "google-grants.json");
  let origins: Record<string, string> = {};
  if (existsSync(file)) {
    try {
      origins = JSON.parse(readFileSync(file, "utf8")) as Record<string, string>;
    } catch {
      origins = {}; // unreadable: every grant counts as of unknown origin, so consent is asked again
    }
  }
  return {
    get: (clientId) => (typeof origins[clientId] === "string" ? origins[clientId] : undefined),
    record(clientId, googleAuthUrl) {
      origins[clientId] = googleAuthUrl;
      mkdirSync(runDir, { recursive: true });
      writeFileSync(file, `${JSON.stringify(origins, null, 2)}\n`, { mode: 0o600 });
    },
  };
}

/** Whether a CONNECTED client counts as connected to `googleAuthUrl`. */
export function grantedBy(origins: GrantOrigins, clientId: string, googleAuthUrl: string): boolean {
  return origins.get(clientId) === googleAuthUrl;
}
