/**
 * Strict checks for values that come back from callers (page tokens, ids) and go into a query
 * as `timestamptz`, `bigint` or `uuid`: a value these accept is one Postgres accepts, so a
 * forged token is INVALID_ARGUMENT at the edge instead of a 22008/22003/22P02 from the query.
 */

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(text: string): boolean {
  return UUID_PATTERN.test(text);
}

const BIGINT_MAX = 9_223_372_036_854_775_807n;

/** A positive bigint id (1 … 2⁶³−1) written in plain decimal digits. */
export function isBigintId(text: string): boolean {
  return /^[1-9]\d{0,18}$/.test(text) && BigInt(text) <= BIGINT_MAX;
}

/**
 * RFC 3339 `date-time` (§5.6) with a real calendar date and time, at most microseconds (what
 * Postgres keeps), no leap second, and an offset Postgres takes (±15:59 at most). `Date.parse`
 * is no check: it reads "1" as the year 2001.
 */
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,6})?(?:Z|[+-](\d{2}):(\d{2}))$/;

export function isTimestamp(text: string): boolean {
  const m = RFC3339.exec(text);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  const [offsetHours, offsetMinutes] = [Number(m[7] ?? 0), Number(m[8] ?? 0)];
  if (year < 1 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return false;
  if (offsetHours > 15 || offsetMinutes > 59) return false;
  // the day exists in that month (and year: 29 February)
  const date = new Date(Date.UTC(2000, month - 1, day));
  date.setUTCFullYear(year);
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}
