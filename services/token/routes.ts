import type { ConnectRouter } from "@connectrpc/connect";
import { TokenService } from "../../gen/reviewflow/token/v1/token_service_pb.js";
import type { TokenServiceDeps } from "./deps.js";
import { createAdminHandlers } from "./handlers/admin.js";
import { createBranchHandlers } from "./handlers/branches.js";
import { createClientHandlers } from "./handlers/clients.js";
import { createConsentHandlers } from "./handlers/consent.js";
import { createTokenHandlers } from "./handlers/tokens.js";

/**
 * The TokenService's routes: one registration of the whole service (a second `service()` call
 * would stub the first one's methods). Production, tests and any host use this same function.
 */
export function createTokenRoutes(deps: TokenServiceDeps): (router: ConnectRouter) => void {
  return (router) => {
    router.service(TokenService, {
      ...createClientHandlers(deps),
      ...createBranchHandlers(deps),
      ...createConsentHandlers(deps),
      ...createTokenHandlers(deps),
      ...createAdminHandlers(deps),
    });
  };
}
