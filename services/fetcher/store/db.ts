import { createHash } from "node:crypto";
import type pg from "pg";
import type { DataSource, EntityManager } from "typeorm";
import { sharedPool } from "../../../lib/db/index.js";

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

/**
 * Every statement runs as a named prepared statement on node-postgres, straight on the
 * DataSource's pool: Postgres parses and plans each distinct text once per connection instead of
 * once per execution. The hot statements are CTE chains (a task's finish, a page's commit, the
 * pass lease) whose planning cost more Postgres CPU than running them (claimPass: 1.1 ms to plan,
 * 0.45 ms to run). Texts are built from fixed fragments and placeholders, never from values, so
 * they are a small fixed set; a name is a hash of the text. (A pooler must run in session mode,
 * as README's Postgres notes already require.)
 */
const statementNames = new Map<string, string>();

function statementName(text: string): string {
  let name = statementNames.get(text);
  if (!name) {
    name = `rf_${createHash("sha1").update(text).digest("base64url").slice(0, 22)}`;
    if (statementNames.size > 10_000) statementNames.clear();
    statementNames.set(text, name);
  }
  return name;
}

async function run<T>(client: pg.Pool | pg.PoolClient, text: string, params?: unknown[]): Promise<Rows<T>> {
  const result = await client.query({ name: statementName(text), text, values: params ?? [] });
  return { rows: result.rows as T[], count: result.rowCount ?? 0 };
}

export function createDb(dataSource: DataSource): Db {
  // the pg Pool under TypeORM's Postgres driver (lib/db's sharedPool, once the data source is
  // initialised): the hot path needs none of the query runner's bookkeeping (events, logging,
  // result wrapping), one connection checkout per statement
  let shared: pg.Pool | undefined;
  const pool = () => (shared ??= sharedPool(dataSource));
  return {
    query: <T>(text: string, params?: unknown[]) => run<T>(pool(), text, params),
    async tx<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
      const client = await pool().connect();
      let broken: unknown;
      try {
        await client.query("BEGIN");
        const out = await fn({ query: <R>(text: string, params?: unknown[]) => run<R>(client, text, params) });
        await client.query("COMMIT");
        return out;
      } catch (err) {
        await client.query("ROLLBACK").catch((rollbackErr: unknown) => (broken = rollbackErr));
        throw err;
      } finally {
        // a connection whose rollback failed is in an unknown state: destroyed, not reused
        client.release(broken instanceof Error ? broken : undefined);
      }
    },
  };
}

/** `Sql` straight on a pool of its own (named prepared statements, as `createDb`). */
export function poolSql(pool: pg.Pool): Sql {
  return { query: <T>(text: string, params?: unknown[]) => run<T>(pool, text, params) };
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
export async function newestFirst<T>(
  sql: Sql,
  from: string,
  time: string,
  where: Conditions,
  page: Page,
): Promise<(T & { cursor_time: string })[]> {
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
