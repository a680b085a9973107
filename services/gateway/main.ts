import { ConfigError, loadConfig } from "../../lib/config/index.js";
import { openDatabase } from "../../lib/db/index.js";
import { createLogger, redactString, registerSecret } from "../../lib/log/index.js";
import { connectNats } from "../../lib/nats/index.js";
import { createGateway } from "./server.js";

/** The gateway process: the only file with side effects. `npm run gateway`. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      // one clear line naming the variable, never its value
      process.stderr.write(`gateway: bad configuration: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  registerSecret(config.adminApiKey);
  registerSecret(config.serviceApiKey);
  const logger = createLogger({ level: config.logLevel, bindings: { service: "gateway" } });
  const dataSource = await openDatabase({ databaseUrl: config.databaseUrl, logger });
  // the gateway publishes nothing: it only reports NATS in /ready, so it does not manage streams
  const nats = await connectNats({ url: config.natsUrl, namespace: config.natsNamespace, skipEnsure: true, logger, name: "reviewflow-gateway" });
  const gateway = createGateway({ config, dataSource, nats, logger });
  const port = await gateway.listen(config.gatewayPort, config.host);
  logger.info("gateway ready", { url: `http://${config.host}:${port}`, public_url: config.publicUrl, cors_origins: config.corsOrigins.length });

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info("shutting down", { signal });
    try {
      await gateway.close();
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
  process.stderr.write(`gateway: failed to start: ${redactString(message)}\n`);
  process.exit(1);
});
