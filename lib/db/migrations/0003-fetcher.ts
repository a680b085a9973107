import type { MigrationInterface, QueryRunner } from "typeorm";

/** ReviewFetcher tables: fetch_jobs, locations, reviews, dead letters. Owned by services/fetcher. */
export class Fetcher1732200000003 implements MigrationInterface {
  name = "Fetcher1732200000003";

  async up(_q: QueryRunner): Promise<void> {}

  async down(_q: QueryRunner): Promise<void> {}
}
