import { loadConfig } from "../../lib/config/index.js";
import { openDatabase } from "../../lib/db/index.js";
import { createLogger } from "../../lib/log/index.js";
import { connectNats } from "../../lib/nats/index.js";
import { createFetcherService } from "./server.js";

/** The ReviewFetcher process: gRPC on FETCHER_PORT plus the JetStream stage workers. */
const config = loadConfig();
const logger = createLogger({ level: config.logLevel, bindings: { service: "fetcher" } });
const dataSource = await openDatabase({ databaseUrl: config.databaseUrl, logger, poolSize: Math.min(40, Math.max(10, config.fetchConcurrency * 2 + 4)) });
const nats = await connectNats({
  url: config.natsUrl,
  namespace: config.natsNamespace,
  name: "reviewflow-fetcher",
  logger,
  ackWaitMs: config.fetchAckWaitMs,
  maxDeliver: config.fetchMaxDeliver,
  retentionDays: config.reviewRetentionDays,
  // every review event is a JetStream publish: no eager stack trace per request
  noAsyncTraces: true,
});
const fetcher = createFetcherService({ config, dataSource, nats, logger });
await fetcher.server.listen(config.fetcherPort, config.host);
await fetcher.start();
logger.info("fetcher ready", { port: config.fetcherPort, concurrency: config.fetchConcurrency, qpm: config.googleQpm });

let closing = false;
const shutdown = async (signal: string) => {
  if (closing) return;
  closing = true;
  logger.info("shutting down", { signal });
  // stop accepting and pulling first, let in-flight tasks finish, then drop the connections
  await fetcher.stop();
  await nats.close();
  await dataSource.destroy();
  process.exit(0);
};
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
