import { openDatabase } from "../../lib/db/index.js";
import { connectNats } from "../../lib/nats/index.js";
import { runService } from "../../lib/process/index.js";
import { createFetcherService } from "./server.js";

/** The ReviewFetcher process: gRPC on FETCHER_PORT plus the JetStream stage workers. `npm run fetcher`. */
runService("fetcher", async (config, logger) => {
  const dataSource = await openDatabase({ databaseUrl: config.databaseUrl, logger, poolSize: Math.min(40, Math.max(10, (config.fetchConcurrency === "auto" ? 8 : config.fetchConcurrency) * 2 + 4)) });
  const nats = await connectNats({
    url: config.natsServers,
    namespace: config.natsNamespace,
    workNamespace: config.natsWorkNamespace,
    replicas: config.natsReplicas,
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
  logger.info("fetcher ready", { port: config.fetcherPort, concurrency: config.fetchConcurrency, concurrency_max: config.fetchConcurrencyMax, qpm: config.googleQpm });
  return {
    // stop accepting and pulling first, let in-flight tasks finish, then drop the connections
    async stop() {
      await fetcher.stop();
      await nats.close();
      await dataSource.destroy();
    },
  };
}, { needsEncryptionKey: true });
