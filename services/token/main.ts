import { openDatabase } from "../../lib/db/index.js";
import { connectNats, natsOptionsFrom } from "../../lib/nats/index.js";
import { runService } from "../../lib/process/index.js";
import { tokenEntities } from "./entities/index.js";
import { createTokenService } from "./server.js";

/** The TokenService process: the only file with side effects. `npm run token`. */
runService(
  "token service",
  async (config, logger) => {
    const dataSource = await openDatabase({ databaseUrl: config.postgres.url, entities: tokenEntities, logger });
    const nats = await connectNats(natsOptionsFrom(config, { name: "reviewflow-token", logger }));
    const token = createTokenService({ config, dataSource, nats, logger });
    const port = await token.start();
    logger.info("token service ready", { port });
    return {
      // stop accepting first, let in-flight calls finish, then drop the connections
      async stop() {
        await token.stop();
        await nats.close();
        await dataSource.destroy();
      },
    };
  },
  { needsEncryptionKey: true },
);
