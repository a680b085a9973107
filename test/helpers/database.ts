import { randomBytes } from "node:crypto";
import type { DataSource } from "typeorm";
import { dropDatabase, openDatabase, type DatabaseOptions } from "../../lib/db/index.js";

/** Postgres server the tests use; each run gets its own database on it. */
export const TEST_POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/";

export function uniqueDatabaseUrl(): string {
  const url = new URL(TEST_POSTGRES_URL);
  url.pathname = `/rf_test_${process.pid}_${randomBytes(4).toString("hex")}`;
  return url.toString();
}

export interface TestDatabase {
  readonly url: string;
  readonly dataSource: DataSource;
}

/**
 * A fresh, migrated database for the surrounding `describe`, dropped afterwards. Call at the
 * describe level; read the fields inside tests.
 */
export function useTestDatabase(entities: DatabaseOptions["entities"] = []): TestDatabase {
  const state: { url?: string; dataSource?: DataSource } = {};
  before(async function () {
    this.timeout(30_000);
    state.url = uniqueDatabaseUrl();
    state.dataSource = await openDatabase({ databaseUrl: state.url, entities, poolSize: 5 });
  });
  after(async function () {
    this.timeout(30_000);
    await state.dataSource?.destroy().catch(() => undefined);
    if (state.url) await dropDatabase(state.url);
  });
  return {
    get url() {
      if (!state.url) throw new Error("useTestDatabase: read it inside a test, not at describe time");
      return state.url;
    },
    get dataSource() {
      if (!state.dataSource) throw new Error("useTestDatabase: read it inside a test, not at describe time");
      return state.dataSource;
    },
  };
}
