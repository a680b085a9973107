import { isUuid } from "../../../lib/db/index.js";
import { InvalidArgumentError } from "../../../lib/errors/index.js";

/**
 * Page tokens of ListLocations, which pages by Google name: the last location's name and id,
 * base64url JSON like the other lists' tokens, as opaque, and parsed as strictly (a name of
 * Google's shape, a uuid), so a forged token is INVALID_ARGUMENT, never a query error.
 */
export interface LocationCursor {
  googleName: string;
  id: string;
}

/** `accounts/{a}/locations/{l}`, as the locations table keeps it (varchar(300), no control characters). */
const GOOGLE_LOCATION_NAME = /^accounts\/[^/\p{Cc}]+\/locations\/[^/\p{Cc}]+$/u;

export function encodeLocationPageToken(cursor: LocationCursor): string {
  return Buffer.from(JSON.stringify({ n: cursor.googleName, i: cursor.id })).toString("base64url");
}

export function decodeLocationPageToken(token: string): LocationCursor | undefined {
  if (!token) return undefined;
  const cursor = parseJson(Buffer.from(token, "base64url").toString("utf8"));
  const { n, i } = (typeof cursor === "object" && cursor !== null ? cursor : {}) as { n?: unknown; i?: unknown };
  if (typeof n === "string" && n.length <= 300 && GOOGLE_LOCATION_NAME.test(n) && typeof i === "string" && isUuid(i)) {
    return { googleName: n, id: i };
  }
  throw new InvalidArgumentError("page_token is not a token this list returned");
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** ListLocations' page size: default 100, at most 1000 (the proto's bounds). */
export function locationPageSize(requested: number): number {
  return requested > 0 ? Math.min(requested, 1000) : 100;
}
