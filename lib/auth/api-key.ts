import { createHash, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";

/**
 * API keys look like `rfk_<id without dashes>_<43 chars of base64url secret>`: the id finds the
 * row, and only a SHA-256 of the 256-bit secret is stored (a slow hash adds nothing at that entropy).
 */
export interface MintedKey {
  id: string;
  key: string;
  secretHash: string;
}

const KEY_SHAPE = /^rfk_([0-9a-f]{32})_([A-Za-z0-9_-]{43})$/;

export function mintApiKey(): MintedKey {
  const id = randomUUID();
  const secret = randomBytes(32).toString("base64url");
  return { id, key: `rfk_${id.replaceAll("-", "")}_${secret}`, secretHash: hashSecret(secret) };
}

export function parseApiKey(key: string): { id: string; secret: string } | undefined {
  const match = KEY_SHAPE.exec(key);
  if (!match) return undefined;
  const hex = match[1];
  const id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  return { id, secret: match[2] };
}

export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

/** Constant-time comparison of two hex digests. */
export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, "hex");
  const y = Buffer.from(b, "hex");
  return x.length === y.length && timingSafeEqual(x, y);
}
