import { openDatabase } from "../../lib/db/index.js";
import { connectNats } from "../../lib/nats/index.js";
import { runService } from "../../lib/process/index.js";
import { createGateway } from "./server.js";

/** The gateway process: the only file with side effects. `npm run gateway`. */
runService("gateway", async (config, logger) => {
  const dataSource = await openDatabase({ databaseUrl: config.databaseUrl, logger });
  // the gateway publishes only Pub/Sub push notifications, onto FETCH, which the fetcher manages
  const nats = await connectNats({ url: config.natsServers, namespace: config.natsNamespace, workNamespace: config.natsWorkNamespace, skipEnsure: true, logger, name: "reviewflow-gateway" });
  const gateway = createGateway({ config, dataSource, nats, logger });
  const port = await gateway.listen(config.gatewayPort, config.host);
  logger.info("gateway ready", { url: `http://${config.host}:${port}`, public_url: config.publicUrl, cors_origins: config.corsOrigins.length });
  return {
    async stop() {
      await gateway.close();
      await nats.close();
      await dataSource.destroy();
    },
  };
});
