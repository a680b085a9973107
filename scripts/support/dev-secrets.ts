// Development secrets for `npm start`: an encryption key and an admin key, made once and kept in
// .run/dev-secrets.json (gitignored, mode 0600) so a restart can still decrypt what the last run
// stored. Values set in the environment always win and are never written to the file.
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

export interface DevSecrets {
  TOKEN_ENCRYPTION_KEY: string;
  ADMIN_API_KEY: string;
}

export interface DevSecretsResult {
  /** The values to use (environment first, then the file, then freshly made). */
  values: DevSecrets;
  /** Which values came from where, for the start-up message. */
  sources: Record<keyof DevSecrets, "environment" | "file" | "generated">;
  file: string;
}

const KEYS: (keyof DevSecrets)[] = ["TOKEN_ENCRYPTION_KEY", "ADMIN_API_KEY"];

function generate(name: keyof DevSecrets): string {
  return name === "TOKEN_ENCRYPTION_KEY" ? randomBytes(32).toString("base64") : `rf_dev_admin_${randomBytes(24).toString("base64url")}`;
}

export function loadDevSecrets(runDir: string, env: NodeJS.ProcessEnv): DevSecretsResult {
  const file = path.join(runDir, "dev-secrets.json");
  let stored: Partial<DevSecrets> = {};
  if (existsSync(file)) {
    try {
      stored = JSON.parse(readFileSync(file, "utf8")) as Partial<DevSecrets>;
    } catch {
      // a damaged file must not silently replace the key that encrypted stored tokens
      throw new Error(`${file} is not valid JSON: fix or delete it (deleting it makes stored tokens unreadable)`);
    }
  }
  const values = {} as DevSecrets;
  const sources = {} as DevSecretsResult["sources"];
  let changed = false;
  for (const name of KEYS) {
    const fromEnv = env[name]?.trim();
    if (fromEnv) {
      values[name] = fromEnv;
      sources[name] = "environment";
    } else if (typeof stored[name] === "string" && stored[name]) {
      values[name] = stored[name] as string;
      sources[name] = "file";
    } else {
      values[name] = generate(name);
      stored[name] = values[name];
      sources[name] = "generated";
      changed = true;
    }
  }
  if (changed) {
    mkdirSync(runDir, { recursive: true });
    writeFileSync(file, `${JSON.stringify(stored, null, 2)}\n`, { mode: 0o600 });
  }
  return { values, sources, file };
}
