import type { MigrationInterface, QueryRunner } from "typeorm";

/** TokenService tables: clients, branches, tokens, oauth_states. Owned by services/token. */
export class Token1732200000002 implements MigrationInterface {
  name = "Token1732200000002";

  async up(_q: QueryRunner): Promise<void> {}

  async down(_q: QueryRunner): Promise<void> {}
}
