import type { DataSource, EntityManager, QueryRunner } from "typeorm";

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

/**
 * `Sql` over a TypeORM EntityManager (inside `dataSource.transaction`, where other writes such as
 * the audit log share the transaction). It returns the rows only: `count` is always 0.
 */
export function managerSql(manager: EntityManager): Sql {
  return { query: async (text, params) => ({ rows: await manager.query(text, params), count: 0 }) };
}

/** Where a newest-first page continues: the sort time (as Postgres printed it) and id of the previous page's last row. */
export interface Keyset {
  time: string;
  id: string;
}

/** One page of a newest-first listing: at most `limit` rows, after the previous page's last row when set. */
export interface Page {
  after?: Keyset;
  limit: number;
}

/**
 * One page of `from` (a table, or a subquery with its alias) newest first, keyset-paged on
 * (`time`, id) with uuid ids; each row carries `cursor_time`, its `time` as text, for the next page.
 */
export async function newestFirst<T>(sql: Sql, from: string, time: string, where: Conditions, page: Page): Promise<(T & { cursor_time: string })[]> {
  where.before(time, "id", "uuid", page.after);
  const { rows } = await sql.query<T & { cursor_time: string }>(
    `SELECT *, to_json(${time}) #>> '{}' AS cursor_time FROM ${from}
     ${where.where} ORDER BY ${time} DESC, id DESC LIMIT ${where.param(page.limit)}`,
    where.params,
  );
  return rows;
}

/**
 * A WHERE clause built from optional conditions, with their values numbered as parameters in the
 * order they are added; `param` numbers a value used elsewhere in the statement (LIMIT).
 */
export class Conditions {
  readonly params: unknown[] = [];
  private readonly clauses: string[];

  constructor(...clauses: string[]) {
    this.clauses = clauses;
  }

  /** Appends `value` to the parameters and returns its placeholder (`$n`). */
  param(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }

  /** A condition on one value: `clause` gets the value's placeholder. */
  add(clause: (placeholder: string) => string, value: unknown): this {
    this.clauses.push(clause(this.param(value)));
    return this;
  }

  /** `column = value`, unless `value` is undefined. */
  equal(column: string, value: unknown): this {
    return value === undefined ? this : this.add((p) => `${column} = ${p}`, value);
  }

  /** Keyset paging, newest first on (`time`, `id`): only rows after `after` in that order, when set. */
  before(time: string, id: string, idType: "uuid" | "bigint", after: Keyset | undefined): this {
    if (after) this.clauses.push(`(${time}, ${id}) < (${this.param(after.time)}::timestamptz, ${this.param(after.id)}::${idType})`);
    return this;
  }

  /** `WHERE a AND b`, or "" when there is no condition. */
  get where(): string {
    return this.clauses.length ? `WHERE ${this.clauses.join(" AND ")}` : "";
  }
}
