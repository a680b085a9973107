import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * The gateway's shared rate-limit counters (GATEWAY_RATE_STORE=postgres): the table layout
 * rate-limiter-flexible's RateLimiterPostgres reads, created here so the limiter never issues
 * DDL at run time (it is told `tableCreated: true`). Owned by services/gateway.
 */
export class Gateway1732200000004 implements MigrationInterface {
  name = "Gateway1732200000004";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE gateway_rate_limits (
      key varchar(255) PRIMARY KEY,
      points integer NOT NULL DEFAULT 0,
      expire bigint)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS gateway_rate_limits`);
  }
}
