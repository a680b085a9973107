import type { ServiceImpl } from "@connectrpc/connect";
import { callerOf, requireRole, type Caller } from "../../../lib/auth/index.js";
import { writeAudit } from "../../../lib/db/index.js";
import { STAGES, type StageName } from "../../../lib/nats/index.js";
import { UnavailableError } from "../../../lib/errors/index.js";
import type { ReviewFetcher, StageState } from "../../../gen/reviewflow/fetcher/v1/fetcher_pb.js";
import { STAGE_ENUM } from "../pipeline/dead-letters.js";
import { managerSql } from "../store/db.js";
import { readStageControls, setStagePaused } from "../store/stage-control-store.js";
import type { HandlerDeps } from "./handler-deps.js";

export function stageHandlers(deps: HandlerDeps): Pick<ServiceImpl<typeof ReviewFetcher>, "listStages" | "pauseStage" | "resumeStage"> {
  const { nats } = deps.pipeline;

  const stateOf = async (stage: StageName, paused: boolean): Promise<StageState> => {
    const info = await nats.jsm.consumers.info(nats.names.fetch.stream, nats.names.fetch.consumer(stage)).catch(() => {
      throw new UnavailableError("JetStream did not answer; retry later");
    });
    return {
      $typeName: "reviewflow.fetcher.v1.StageState",
      stage: STAGE_ENUM[stage],
      paused,
      pending: BigInt(info.num_pending),
      ackPending: BigInt(info.num_ack_pending),
    };
  };

  const toggle = async (caller: Caller, stage: StageName, paused: boolean): Promise<StageState> => {
    // a stage is shared by every tenant's jobs: only an admin may stop it for all of them
    requireRole(caller, ["admin"], paused ? "pause stages" : "resume stages");
    await deps.dataSource.transaction(async (manager) => {
      await setStagePaused(managerSql(manager), stage, paused, caller.keyId);
      await writeAudit(manager, {
        tenantId: caller.tenantId,
        actor: caller.keyId,
        action: paused ? "stage.pause" : "stage.resume",
        targetType: "stage",
        targetId: stage,
      });
    });
    // this instance reacts at once; the others on their next poll (FETCH_POLL_MS)
    await deps.switches.refresh().catch(() => undefined);
    deps.logger.info(paused ? "stage paused" : "stage resumed", { stage, by: caller.keyId });
    return stateOf(stage, paused);
  };

  return {
    async listStages() {
      const controls = await readStageControls(deps.db);
      return { stages: await Promise.all(STAGES.map((stage) => stateOf(stage, controls.get(stage) ?? false))) };
    },
    async pauseStage(req, ctx) {
      return { stage: await toggle(callerOf(ctx), req.stage as StageName, true) };
    },
    async resumeStage(req, ctx) {
      return { stage: await toggle(callerOf(ctx), req.stage as StageName, false) };
    },
  };
}
