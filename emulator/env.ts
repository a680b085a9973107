// Environment for the standalone emulator (`npm run emulator`). A bad value stops start-up
// with the variable's name, never its (possibly secret) value.
import { isSeedName } from "./seed-spec.js";
import type { EmulatorClient, EmulatorOptions, SeedName } from "./types.js";

export class EmulatorEnvError extends Error {
  constructor(
    readonly variable: string,
    reason: string,
  ) {
    super(`${variable}: ${reason}`);
    this.name = "EmulatorEnvError";
  }
}

export interface EmulatorEnv extends EmulatorOptions {
  port: number;
  seed: SeedName;
  clients: EmulatorClient[];
  autoApprove: boolean;
}

function port(env: NodeJS.ProcessEnv): number {
  const raw = env.EMULATOR_PORT ?? "8090";
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n > 65535) throw new EmulatorEnvError("EMULATOR_PORT", "must be a port number 0-65535");
  return n;
}

/** `id:secret,id:secret`; the secret may itself contain colons, the id may not. */
function clients(env: NodeJS.ProcessEnv): EmulatorClient[] {
  const raw = env.EMULATOR_CLIENTS;
  if (raw === undefined || raw.trim() === "") return [{ id: "demo-client.apps.googleusercontent.com", secret: "demo-secret" }];
  const out: EmulatorClient[] = [];
  for (const entry of raw
    .split(",")
    .map((e) => e.trim())
    .filter(Boolean)) {
    const colon = entry.indexOf(":");
    if (colon <= 0 || colon === entry.length - 1)
      throw new EmulatorEnvError("EMULATOR_CLIENTS", "expected id:secret pairs separated by commas");
    out.push({ id: entry.slice(0, colon), secret: entry.slice(colon + 1) });
  }
  if (out.length === 0) throw new EmulatorEnvError("EMULATOR_CLIENTS", "expected at least one id:secret pair");
  return out;
}

function bool(env: NodeJS.ProcessEnv, name: string, def: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === "") return def;
  if (["true", "1", "yes"].includes(raw)) return true;
  if (["false", "0", "no"].includes(raw)) return false;
  throw new EmulatorEnvError(name, "must be true or false");
}

function httpUrl(raw: string, name: string): string {
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) throw new EmulatorEnvError(name, "must be an http(s) URL");
  return raw;
}

export function loadEmulatorEnv(env: NodeJS.ProcessEnv = process.env): EmulatorEnv {
  const seed = env.EMULATOR_SEED?.trim() || "demo";
  if (!isSeedName(seed)) throw new EmulatorEnvError("EMULATOR_SEED", "must be tiny, demo or large");
  const out: EmulatorEnv = { port: port(env), seed, clients: clients(env), autoApprove: bool(env, "EMULATOR_AUTO_APPROVE", false) };
  const ttl = env.EMULATOR_TOKEN_TTL_SECONDS;
  if (ttl !== undefined && ttl.trim() !== "") {
    if (!/^\d+$/.test(ttl.trim()) || Number(ttl) < 1)
      throw new EmulatorEnvError("EMULATOR_TOKEN_TTL_SECONDS", "must be a positive integer");
    out.accessTokenTtlSeconds = Number(ttl);
  }
  const host = env.EMULATOR_HOST?.trim();
  if (host) out.host = host;
  const pubsub = env.PUBSUB_EMULATOR_HOST?.trim();
  if (pubsub) {
    if (!/^[^\s/:]+:\d{1,5}$/.test(pubsub.replace(/^https?:\/\//, "")))
      throw new EmulatorEnvError("PUBSUB_EMULATOR_HOST", "must be host:port");
    out.pubsubEmulatorHost = pubsub;
  }
  const endpoint = env.EMULATOR_PUSH_ENDPOINT?.trim();
  if (endpoint) out.pushEndpoint = httpUrl(endpoint, "EMULATOR_PUSH_ENDPOINT");
  const audience = env.EMULATOR_PUSH_AUDIENCE?.trim();
  if (audience) out.pushAudience = audience;
  const account = env.EMULATOR_PUSH_SERVICE_ACCOUNT?.trim();
  if (account) out.pushServiceAccount = account;
  return out;
}
