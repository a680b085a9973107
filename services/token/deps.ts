import type { ServiceImpl } from "@connectrpc/connect";
import type { DataSource } from "typeorm";
import type { SecretBox } from "../../lib/crypto/index.js";
import type { Logger } from "../../lib/log/index.js";
import type { TokenService } from "../../gen/reviewflow/token/v1/token_service_pb.js";
import type { TokenEvents } from "./events.js";
import type { GoogleOAuth } from "./google-oauth.js";
import type { TokenMetrics } from "./metrics.js";
import type { Clock, TokenSettings } from "./settings.js";
import type { TokenCache } from "./token-cache.js";
import type { TokenManager } from "./token-manager.js";

/** Everything the TokenService's handlers use, built once by server.ts and injected. */
export interface TokenServiceDeps {
  dataSource: DataSource;
  secretBox: SecretBox;
  google: GoogleOAuth;
  events: TokenEvents;
  tokens: TokenManager;
  cache: TokenCache;
  clock: Clock;
  settings: TokenSettings;
  logger: Logger;
  metrics: TokenMetrics;
}

/** A slice of the TokenService implementation; routes.ts merges the slices into one registration. */
export type TokenHandlers = Partial<ServiceImpl<typeof TokenService>>;
