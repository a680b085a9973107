import type { Logger } from "../../../lib/log/index.js";
import { STAGES, type StageName } from "../../../lib/nats/index.js";
import type { Sql } from "../store/db.js";
import { readStageControls } from "../store/stage-control-store.js";

/**
 * Pause switches shared by every instance: a row per stage in `stage_controls`, re-read every
 * `pollMs`. A paused stage's workers stop pulling; tasks already running finish.
 */
export interface StageSwitches {
  isPaused(stage: StageName): boolean;
  /** Re-reads the rows now. */
  refresh(): Promise<void>;
  start(): void;
  stop(): void;
}

export function createStageSwitches(sql: Sql, pollMs: number, logger: Logger): StageSwitches {
  const paused = new Map<StageName, boolean>(STAGES.map((s) => [s, false]));
  let timer: NodeJS.Timeout | undefined;
  const refresh = async () => {
    const rows = await readStageControls(sql);
    for (const stage of STAGES) paused.set(stage, rows.get(stage) ?? false);
  };
  return {
    isPaused: (stage) => paused.get(stage) ?? false,
    refresh,
    start() {
      if (timer) return;
      const tick = () => {
        refresh()
          .catch((err: unknown) =>
            logger.warn("could not read stage controls; keeping the last known", { err: String((err as Error)?.message ?? err) }),
          )
          .finally(() => {
            if (timer) timer = setTimeout(tick, pollMs);
          });
      };
      timer = setTimeout(tick, pollMs);
    },
    stop() {
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}
