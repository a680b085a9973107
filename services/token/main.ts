import { ConfigError, loadConfig, requireKeyring } from "../../lib/config/index.js";
import { openDatabase } from "../../lib/db/index.js";
import { createLogger, redactString, registerSecret } from "../../lib/log/index.js";
import { connectNats } from "../../lib/nats/index.js";
import { tokenEntities } from "./entities/index.js";
import { createTokenService } from "./server.js";

/** The TokenService process: the only file with side effects. `npm run token`. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
    requireKeyring(config);
  } catch (err) {
    if (err instanceof ConfigError) {
      // one clear line naming the variable, never its value
      process.stderr.write(`token service: bad configuration: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  registerSecret(config.adminApiKey);
  registerSecret(config.serviceApiKey);
  const logger = createLogger({ level: config.logLevel, bindings: { service: "token" } });
  const dataSource = await openDatabase({ databaseUrl: config.databaseUrl, entities: tokenEntities, logger });
  const nats = await connectNats({
    url: config.natsUrl, namespace: config.natsNamespace, retentionDays: config.reviewRetentionDays, logger, name: "reviewflow-token",
  });
  const service = createTokenService({ config, dataSource, nats, logger });
  await service.start();
  await service.server.listen(config.tokenPort, config.host);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info("shutting down", { signal });
    try {
      await service.stop();
      await nats.close();
      await dataSource.destroy();
      process.exit(0);
    } catch (err) {
      logger.error("shutdown failed", { err });
      process.exit(1);
    }
  };
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
  process.once("SIGINT", () => void shutdown("SIGINT"));
}

main().catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`token service: failed to start: ${redactString(message)}\n`);
  process.exit(1);
});
