import "reflect-metadata";
import { DataSource, type DataSourceOptions } from "typeorm";
import type { Logger } from "../log/logger.js";
import { ensureDatabase } from "./ensure-database.js";
import { foundationEntities } from "./entities/index.js";
import { migrations } from "./migrations/index.js";

/** TypeORM's own type for a list of entities (classes, schemas or file globs). */
type EntityList = NonNullable<DataSourceOptions["entities"]>;

export interface DatabaseOptions {
  databaseUrl: string;
  /** The service's own entities; the shared ones (tenants, api_keys, audit_log) are always added. */
  entities?: EntityList;
  logger?: Logger;
  /** Pool size per process. */
  poolSize?: number;
}

/**
 * Opens Postgres through TypeORM: creates the database if missing, then runs every migration
 * (all services share one schema and one ordered migration list, so any instance can migrate;
 * TypeORM takes a lock-free "migrations" table, so we serialise with an advisory lock).
 */
export async function openDatabase(options: DatabaseOptions): Promise<DataSource> {
  await ensureDatabase(options.databaseUrl);
  const dataSource = new DataSource({
    type: "postgres",
    url: options.databaseUrl,
    entities: [...foundationEntities, ...((options.entities as unknown[]) ?? [])] as EntityList,
    migrations,
    migrationsTableName: "migrations",
    synchronize: false,
    logging: false,
    extra: { max: options.poolSize ?? 10, connectionTimeoutMillis: 5_000 },
  });
  await dataSource.initialize();
  try {
    await runMigrations(dataSource);
  } catch (err) {
    await dataSource.destroy();
    throw err;
  }
  return dataSource;
}

const MIGRATION_LOCK = 7_201_337;

export async function runMigrations(dataSource: DataSource): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    // two instances starting together must not both apply the same migration
    await runner.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK]);
    const applied = await dataSource.runMigrations({ transaction: "each" });
    return applied.map((m) => m.name);
  } finally {
    await runner.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK]).catch(() => undefined);
    await runner.release();
  }
}
