import type { DescMessage } from "@bufbuild/protobuf";
import { createAccountsStage } from "./accounts-stage.js";
import { createLocationsStage } from "./locations-stage.js";
import { createMaintenance, type MaintenanceOptions } from "./maintenance.js";
import { watchMaxDeliveries } from "./max-deliveries.js";
import type { PipelineContext } from "./pipeline-context.js";
import { createReviewsStage } from "./reviews-stage.js";
import type { StageHandler } from "./stage-handler.js";
import type { StageSwitches } from "./stage-switches.js";
import { createStageWorker } from "./stage-worker.js";
import { createJobCache, createTaskRunner } from "./task-runner.js";

/**
 * Messages one stage worker holds at once, running or waiting for their project's quota: enough
 * for every project's backlog to wait in the quota at once (a task waiting there costs a timer and
 * a heartbeat every FETCH_ACK_WAIT_MS / 3); the consumer's max_ack_pending (lib/nats/streams.ts,
 * 5,000) bounds all instances together.
 */
const MAX_HELD = 2_000;

export interface FetchWorkers {
  start(): Promise<void>;
  /** Stops pulling on every stage, finishes what is in flight, stops the sweeps. */
  stop(): Promise<void>;
  /** One maintenance pass now (tests, and drills that cannot wait for the timer). */
  maintain(): Promise<void>;
}

/** The three stage workers, the max-deliveries watcher and the maintenance sweep of one instance. */
export function createFetchWorkers(ctx: PipelineContext, switches: StageSwitches, maintenanceOptions: MaintenanceOptions): FetchWorkers {
  const handlers = [createAccountsStage(ctx), createLocationsStage(ctx), createReviewsStage(ctx)] as unknown as StageHandler<DescMessage>[];
  const jobs = createJobCache(ctx);
  const workers = handlers.map((handler) =>
    createStageWorker({
      stage: handler.stage,
      nats: ctx.nats,
      concurrency: () => ctx.inFlight.current(),
      maxHeld: MAX_HELD,
      isPaused: () => switches.isPaused(handler.stage),
      pollMs: ctx.settings.pollMs,
      run: createTaskRunner(ctx, handler, jobs),
      logger: ctx.logger,
    }),
  );
  const maintenance = createMaintenance(ctx, maintenanceOptions);
  let advisories: { stop(): Promise<void> } | undefined;
  let started = false;

  return {
    async start() {
      if (started) return;
      started = true;
      // know the pause switches before the first pull
      await switches.refresh().catch(() => undefined);
      switches.start();
      advisories = watchMaxDeliveries(ctx, handlers);
      for (const worker of workers) worker.start();
      maintenance.start();
    },
    async stop() {
      if (!started) return;
      started = false;
      switches.stop();
      await Promise.all(workers.map((w) => w.stop()));
      await advisories?.stop();
      await maintenance.stop();
    },
    maintain: () => maintenance.runOnce(),
  };
}
