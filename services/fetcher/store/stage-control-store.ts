import type { StageName } from "../../../lib/nats/index.js";
import type { Sql } from "./db.js";

/** The pause switch of every stage that has a row in `stage_controls` (a stage without one runs). */
export async function readStageControls(sql: Sql): Promise<Map<StageName, boolean>> {
  const { rows } = await sql.query<{ stage: StageName; paused: boolean }>("SELECT stage, paused FROM stage_controls");
  return new Map(rows.map((r) => [r.stage, r.paused]));
}

export async function setStagePaused(sql: Sql, stage: StageName, paused: boolean, by: string): Promise<void> {
  await sql.query(
    `INSERT INTO stage_controls (stage, paused, updated_at, updated_by) VALUES ($1, $2, now(), $3)
     ON CONFLICT (stage) DO UPDATE SET paused = EXCLUDED.paused, updated_at = now(), updated_by = EXCLUDED.updated_by`,
    [stage, paused, by],
  );
}
