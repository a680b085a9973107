// What a failed Postgres statement was, by its SQLSTATE: the one place that knows TypeORM wraps
// node-postgres' error in `driverError` and that 23505 is a unique violation.
export const SQLSTATE = {
  uniqueViolation: "23505",
  duplicateDatabase: "42P04",
} as const;

/** Postgres' SQLSTATE of a failed query, raw from node-postgres or wrapped by TypeORM. */
export function sqlState(err: unknown): string | undefined {
  const e = err as { code?: unknown; driverError?: { code?: unknown } };
  const code = e?.driverError?.code ?? e?.code;
  return typeof code === "string" ? code : undefined;
}

/** True for a unique violation, optionally of one named constraint. */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  if (sqlState(err) !== SQLSTATE.uniqueViolation) return false;
  const e = err as { constraint?: unknown; driverError?: { constraint?: unknown } };
  return constraint === undefined || (e?.driverError?.constraint ?? e?.constraint) === constraint;
}
