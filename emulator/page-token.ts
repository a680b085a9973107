// Opaque page tokens. Each one is bound to the query that produced it (a fingerprint of the
// parent, mask, order, filter and caller), so replaying it with different arguments is a 400,
// as Google does, instead of a silently wrong page.
import { hashString } from "./prng.js";
import { invalidArgument, type RpcError } from "./rpc-errors.js";

export function fingerprint(...parts: (string | number | boolean | undefined)[]): string {
  return hashString(JSON.stringify(parts)).toString(36);
}

export function encodePageToken(fp: string, position: unknown): string {
  return Buffer.from(JSON.stringify({ f: fp, p: position })).toString("base64url");
}

/** The position stored in a token, or a 400 when it is malformed or from another query. */
export function decodePageToken<T>(token: string, fp: string, isPosition: (p: unknown) => p is T): T | RpcError {
  try {
    const decoded = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as { f?: unknown; p?: unknown };
    if (decoded.f === fp && isPosition(decoded.p)) return decoded.p;
  } catch {
    // fall through: a malformed token is the caller's error
  }
  return invalidArgument("page_token", "Invalid page token.");
}

export function isOffset(p: unknown): p is number {
  return Number.isInteger(p) && (p as number) > 0;
}
