import type { Client } from "@connectrpc/connect";
import type { DataSource } from "typeorm";
import type { FetcherConfig } from "../../../lib/config/index.js";
import type { SecretBox } from "../../../lib/crypto/index.js";
import type { ReviewSource } from "../../../lib/google/index.js";
import type { Logger } from "../../../lib/log/index.js";
import type { TokenService } from "../../../gen/reviewflow/token/v1/token_service_pb.js";
import type { PipelineContext } from "../pipeline/pipeline-context.js";
import type { StageSwitches } from "../pipeline/stage-switches.js";
import type { Db } from "../store/db.js";

/** What the RPC handlers need; built once by createFetcherService. */
export interface HandlerDeps {
  /** The fetcher's own section: admission bounds, sync defaults. */
  config: Readonly<FetcherConfig>;
  dataSource: DataSource;
  db: Db;
  pipeline: PipelineContext;
  switches: StageSwitches;
  tokenClient: Client<typeof TokenService>;
  source: ReviewSource;
  secretBox: SecretBox;
  logger: Logger;
  /** How often WatchFetchJob looks at the job. */
  watchIntervalMs: number;
}
