import { openDatabase } from "../../lib/db/index.js";
import { connectNats, natsOptionsFrom } from "../../lib/nats/index.js";
import { runService } from "../../lib/process/index.js";
import { createGatewayService } from "./server.js";

/** The gateway process: the only file with side effects. `npm run gateway`. */
runService("gateway", async (config, logger) => {
  const dataSource = await openDatabase({ databaseUrl: config.postgres.url, logger });
  // the gateway publishes only Pub/Sub push notifications, onto FETCH, which the fetcher manages
  const nats = await connectNats(natsOptionsFrom(config, { name: "reviewflow-gateway", logger, skipEnsure: true }));
  const gateway = createGatewayService({ config, dataSource, nats, logger });
  const port = await gateway.start();
  logger.info("gateway ready", {
    url: `http://${config.http.host}:${port}`,
    public_url: config.gateway.publicUrl,
    cors_origins: config.gateway.corsOrigins.length,
  });
  return {
    // stop accepting first, let in-flight requests finish, then drop the connections
    async stop() {
      await gateway.stop();
      await nats.close();
      await dataSource.destroy();
    },
  };
});
