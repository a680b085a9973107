import { openDatabase } from "../../lib/db/index.js";
import { connectNats } from "../../lib/nats/index.js";
import { runService } from "../../lib/process/index.js";
import { tokenEntities } from "./entities/index.js";
import { createTokenService } from "./server.js";

/** The TokenService process: the only file with side effects. `npm run token`. */
runService("token service", async (config, logger) => {
  const dataSource = await openDatabase({ databaseUrl: config.databaseUrl, entities: tokenEntities, logger });
  const nats = await connectNats({
    url: config.natsServers, namespace: config.natsNamespace, workNamespace: config.natsWorkNamespace, replicas: config.natsReplicas, retentionDays: config.reviewRetentionDays, logger, name: "reviewflow-token",
  });
  const service = createTokenService({ config, dataSource, nats, logger });
  await service.start();
  await service.server.listen(config.tokenPort, config.host);
  return {
    async stop() {
      await service.stop();
      await nats.close();
      await dataSource.destroy();
    },
  };
}, { needsEncryptionKey: true });
