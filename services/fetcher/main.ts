import { openDatabase } from "../../lib/db/index.js";
import { connectNats, natsOptionsFrom } from "../../lib/nats/index.js";
import { runService } from "../../lib/process/index.js";
import { createFetcherService } from "./server.js";

/** The ReviewFetcher process: gRPC on FETCHER_PORT plus the JetStream stage workers; the only file with side effects. `npm run fetcher`. */
runService(
  "fetcher",
  async (config, logger) => {
    const dataSource = await openDatabase({
      databaseUrl: config.postgres.url,
      logger,
      poolSize: config.fetcher.databaseConnections,
    });
    // every review event is a JetStream publish: no eager stack trace per request
    const nats = await connectNats(
      natsOptionsFrom(config, { name: "reviewflow-fetcher", logger, stageConsumers: true, noAsyncTraces: true }),
    );
    const fetcher = createFetcherService({ config, dataSource, nats, logger });
    const port = await fetcher.start();
    logger.info("fetcher ready", {
      port,
      concurrency: config.fetcher.concurrency,
      concurrency_max: config.fetcher.concurrencyMax,
      qpm: config.google.qpm,
    });
    return {
      // stop accepting and pulling first, let in-flight tasks finish, then drop the connections
      async stop() {
        await fetcher.stop();
        await nats.close();
        await dataSource.destroy();
      },
    };
  },
  { needsEncryptionKey: true },
);
