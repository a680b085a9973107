import { isBigintId, isTimestamp, isUuid } from "../../../lib/db/index.js";
import { InvalidArgumentError } from "../../../lib/errors/index.js";

/**
 * Keyset page tokens: the last row's sort key (a timestamp as Postgres printed it, and the id),
 * base64url JSON. Opaque to callers and parsed strictly: a token whose time is not RFC 3339 or
 * whose id is not of the list's kind is INVALID_ARGUMENT, never a query error.
 */
export interface Cursor {
  t: string;
  i: string;
}

export function encodePageToken(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString("base64url");
}

/** The kind of id a list is keyed on. */
export type IdKind = "uuid" | "bigint";
const ID_CHECKS: Record<IdKind, (id: string) => boolean> = { uuid: isUuid, bigint: isBigintId };

export function decodePageToken(token: string, idKind: IdKind): Cursor | undefined {
  if (!token) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as Partial<Cursor>;
    if (typeof parsed.t === "string" && isTimestamp(parsed.t) && typeof parsed.i === "string" && ID_CHECKS[idKind](parsed.i)) {
      return { t: parsed.t, i: parsed.i };
    }
  } catch {
    // fall through
  }
  throw new InvalidArgumentError("page_token is not a token this list returned");
}

/** Default 50, at most 500 (the proto's rules already bound it). */
export function pageSize(requested: number): number {
  return requested > 0 ? Math.min(requested, 500) : 50;
}

/**
 * Page tokens of ListReviewVersions: the stored review's row id (so every page reads the same
 * copy) and the last version returned. base64url JSON like the others, and as opaque.
 */
export interface VersionCursor {
  r: string;
  v: number;
}

export function encodeVersionPageToken(cursor: VersionCursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString("base64url");
}

export function decodeVersionPageToken(token: string): VersionCursor | undefined {
  if (!token) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as Partial<VersionCursor>;
    if (
      typeof parsed.r === "string" &&
      isBigintId(parsed.r) &&
      Number.isInteger(parsed.v) &&
      parsed.v! >= 1 &&
      parsed.v! <= 2_147_483_647
    ) {
      return { r: parsed.r, v: parsed.v! };
    }
  } catch {
    // fall through
  }
  throw new InvalidArgumentError("page_token is not a token this list returned");
}
