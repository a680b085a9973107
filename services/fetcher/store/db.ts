import type { DataSource, QueryRunner } from "typeorm";

/**
 * Parameterised SQL on the service's TypeORM DataSource. The fetcher's hot path is set-based
 * (multi-row upserts, counter increments with RETURNING, conditional state changes) which the
 * repository API cannot express, so it speaks SQL and maps rows explicitly.
 */
export interface Sql {
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<Rows<T>>;
}

export interface Rows<T> {
  rows: T[];
  /** Rows inserted, updated or deleted (or returned, for SELECT). */
  count: number;
}

export interface Db extends Sql {
  /** Runs `fn` in one transaction (READ COMMITTED): commit on return, rollback on throw. */
  tx<T>(fn: (sql: Sql) => Promise<T>): Promise<T>;
}

async function run<T>(runner: QueryRunner, text: string, params?: unknown[]): Promise<Rows<T>> {
  const result = await runner.query(text, params, true);
  return { rows: (result.records ?? []) as T[], count: result.affected ?? 0 };
}

export function createDb(dataSource: DataSource): Db {
  return {
    async query<T>(text: string, params?: unknown[]) {
      const runner = dataSource.createQueryRunner();
      try {
        return await run<T>(runner, text, params);
      } finally {
        await runner.release();
      }
    },
    async tx<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
      const runner = dataSource.createQueryRunner();
      await runner.connect();
      await runner.startTransaction();
      try {
        const out = await fn({ query: <R>(text: string, params?: unknown[]) => run<R>(runner, text, params) });
        await runner.commitTransaction();
        return out;
      } catch (err) {
        await runner.rollbackTransaction().catch(() => undefined);
        throw err;
      } finally {
        await runner.release();
      }
    },
  };
}

/** Postgres' SQLSTATE of a failed query (TypeORM wraps the driver error). */
export function sqlState(err: unknown): string | undefined {
  const e = err as { code?: unknown; driverError?: { code?: unknown } };
  const code = e?.driverError?.code ?? e?.code;
  return typeof code === "string" ? code : undefined;
}
