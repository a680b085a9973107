// node-postgres pools for code that speaks pg itself (rate-limiter-flexible, the fetcher's quota
// limiter): the pool TypeORM already holds, or a small dedicated one, both handed out here so no
// service reaches into TypeORM's driver or builds a pool of its own.
import pg from "pg";
import type { DataSource } from "typeorm";
import { PostgresDriver } from "typeorm/driver/postgres/PostgresDriver.js";
import type { Logger } from "../log/logger.js";

/** The pool behind an initialised TypeORM data source: the same connections, no new ones. */
export function sharedPool(dataSource: DataSource): pg.Pool {
  const driver = dataSource.driver;
  if (!(driver instanceof PostgresDriver) || !driver.master) throw new Error("sharedPool needs an initialised Postgres data source");
  return driver.master as pg.Pool;
}

export interface DedicatedPoolOptions {
  /** Named in the log line of a connection error. */
  name: string;
  max: number;
  /** Session settings, e.g. `-c synchronous_commit=off` for counters that need no fsync. */
  sessionOptions?: string;
  logger?: Logger;
}

/**
 * A pool of its own, for work that must not wait behind the service's queries (a hot row checked
 * on every Google call). A broken idle connection is logged, never an unhandled 'error' event.
 */
export function dedicatedPool(databaseUrl: string, options: DedicatedPoolOptions): pg.Pool {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: options.max, options: options.sessionOptions });
  pool.on("error", (err) => options.logger?.warn(`${options.name} pool connection error`, { err: err.message }));
  return pool;
}

/**
 * One connection outside any pool, for what lives in a session: an advisory lock held while the
 * session lives, a LISTEN. A pooled connection would be handed to other queries meanwhile.
 */
export function sessionClient(databaseUrl: string, applicationName?: string): pg.Client {
  return new pg.Client({ connectionString: databaseUrl, application_name: applicationName });
}
