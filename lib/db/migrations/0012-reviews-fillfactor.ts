import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Room on each `reviews` page for its rows' next versions. Owned by services/fetcher.
 *
 * Every full pass writes every review it sees (last_seen_job, to tell later which reviews it did
 * not see), and an unchanged review's write touches no indexed column, so it could be a HOT
 * update: the new row version on the same page, no entry in any of the table's six indexes, a
 * small WAL record. HOT needs free space on the page, though, and at the default fillfactor
 * (100) a page of ~1.3 kB rows is full, so each such write became a full update (six index
 * inserts, the whole row in WAL) and left the indexes to bloat. At 55 each page keeps room for
 * its rows' next versions (a pass writes the ~6 rows of a page in one statement, and their old
 * versions are pruned only after it); measured on a copy of the table, a pass's writes went from
 * 0 % to 100 % HOT and took 2.5–6 × less time, and the table with its indexes ended smaller.
 *
 * The setting applies to pages written from now on; an existing table's pages follow as rows
 * move (VACUUM FULL or pg_repack rewrites it at once, with its lock).
 */
export class ReviewsFillfactor1732200000012 implements MigrationInterface {
  name = "ReviewsFillfactor1732200000012";

  async up(q: QueryRunner): Promise<void> {
    await q.query("ALTER TABLE reviews SET (fillfactor = 55)");
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query("ALTER TABLE reviews RESET (fillfactor)");
  }
}
