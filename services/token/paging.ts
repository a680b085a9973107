import type { ObjectLiteral, SelectQueryBuilder } from "typeorm";
import { isTimestamp, isUuid } from "../../lib/db/index.js";
import { InvalidArgumentError } from "../../lib/errors/index.js";

/**
 * Keyset paging on (created_at, id), oldest first. The page token is opaque to callers: it
 * carries the last row's creation time at Postgres's microsecond precision (a JS Date would
 * drop the microseconds and repeat or skip rows) and its id. It grants nothing: the caller's
 * tenant condition applies to every page.
 */
export const DEFAULT_PAGE_SIZE = 50;

interface Cursor {
  t: string;
  i: string;
}

/** The shape `encode` writes (UTC, microseconds); `isTimestamp` then checks it is a real time. */
const CURSOR_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/** Strict: a token is INVALID_ARGUMENT unless every value in it is one Postgres takes as is. */
function decode(token: string): Cursor {
  try {
    const cursor = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as Partial<Cursor>;
    if (
      typeof cursor.t === "string" &&
      CURSOR_TIME.test(cursor.t) &&
      isTimestamp(cursor.t) &&
      typeof cursor.i === "string" &&
      isUuid(cursor.i)
    ) {
      return { t: cursor.t, i: cursor.i };
    }
  } catch {
    // fall through to the one error below
  }
  throw new InvalidArgumentError("page_token is not valid: pass the next_page_token of the previous page unchanged");
}

function encode(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString("base64url");
}

/** Runs `qb` (already filtered) for one page; `alias` is the query builder's main alias. */
export async function pageOf<T extends ObjectLiteral & { id: string }>(
  qb: SelectQueryBuilder<T>,
  alias: string,
  request: { pageSize: number; pageToken: string },
): Promise<{ rows: T[]; nextPageToken: string }> {
  const size = request.pageSize > 0 ? request.pageSize : DEFAULT_PAGE_SIZE;
  if (request.pageToken) {
    const cursor = decode(request.pageToken);
    qb.andWhere(`(${alias}.created_at, ${alias}.id) > (CAST(:pageTime AS timestamptz), CAST(:pageId AS uuid))`, {
      pageTime: cursor.t,
      pageId: cursor.i,
    });
  }
  qb.addSelect(`to_char(${alias}.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`, "page_cursor_time")
    .orderBy(`${alias}.created_at`, "ASC")
    .addOrderBy(`${alias}.id`, "ASC")
    .limit(size + 1);
  const { entities, raw } = await qb.getRawAndEntities();
  if (entities.length <= size) return { rows: entities, nextPageToken: "" };
  const rows = entities.slice(0, size);
  const last = raw[size - 1] as Record<string, unknown>;
  return { rows, nextPageToken: encode({ t: String(last.page_cursor_time), i: rows[size - 1].id }) };
}
