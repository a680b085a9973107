// Query-string binding as Google's front end does it: camelCase or snake_case names, system
// parameters accepted everywhere, anything else a 400.
import { invalidArgument, invalidInt, type RpcError, unknownQueryParameter } from "./rpc-errors.js";

/** Google's StandardParameters (reference §1.4), accepted and ignored by every method. */
const SYSTEM_PARAMS = new Set([
  "fields",
  "prettyPrint",
  "quotaUser",
  "alt",
  "$.xgafv",
  "access_token",
  "oauth_token",
  "key",
  "callback",
  "uploadType",
  "upload_protocol",
  "upload_type",
  "pp",
  "userIp",
  "bearer_token",
]);

function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** Reads declared parameters by their camelCase name, rejecting undeclared ones. */
export function bindQuery(url: URL, declared: readonly string[]): { params: Map<string, string> } | { error: RpcError } {
  const byWireName = new Map<string, string>();
  for (const name of declared) {
    byWireName.set(name, name);
    byWireName.set(snake(name), name);
  }
  const params = new Map<string, string>();
  for (const [key, value] of url.searchParams) {
    if (SYSTEM_PARAMS.has(key)) continue;
    const name = byWireName.get(key);
    if (name === undefined) return { error: unknownQueryParameter(key) };
    if (!params.has(name)) params.set(name, value);
  }
  return { params };
}

/**
 * Page sizes. Google documents the maxima but not what happens above them (reference §7); the
 * emulator clamps to the maximum, as most Google list methods do. 0 or absent means the default
 * (proto3 cannot tell them apart); a negative or non-integer value is a 400.
 */
export function parsePageSize(raw: string | number | undefined, def: number, max: number): number | RpcError {
  if (raw === undefined || raw === "") return def;
  const text = String(raw).trim();
  if (!/^-?\d+$/.test(text)) return invalidInt("page_size", String(raw));
  const n = Number(text);
  if (!Number.isSafeInteger(n) || Math.abs(n) > 2 ** 31 - 1) return invalidInt("page_size", String(raw));
  if (n < 0) return invalidArgument("page_size", "Page size must be non-negative.");
  if (n === 0) return def;
  return Math.min(n, max);
}

export function isRpcError(value: unknown): value is RpcError {
  return typeof value === "object" && value !== null && "status" in value && "code" in value;
}
