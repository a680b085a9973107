import type { ConnectRouter } from "@connectrpc/connect";
import { ReviewFetcher } from "../../gen/reviewflow/fetcher/v1/fetcher_pb.js";
import { deadLetterHandlers } from "./handlers/dead-letter-handlers.js";
import type { HandlerDeps } from "./handlers/handler-deps.js";
import { jobHandlers } from "./handlers/job-handlers.js";
import { reviewHandlers } from "./handlers/review-handlers.js";
import { stageHandlers } from "./handlers/stage-handlers.js";
import { syncHandlers } from "./handlers/sync-handlers.js";

/** The ReviewFetcher's routes: one registration of the service (production, tests and any host use this). */
export function fetcherRoutes(deps: HandlerDeps): (router: ConnectRouter) => void {
  return (router) => {
    router.service(ReviewFetcher, {
      ...jobHandlers(deps),
      ...reviewHandlers(deps),
      ...deadLetterHandlers(deps),
      ...stageHandlers(deps),
      ...syncHandlers(deps),
    });
  };
}
