// Creates the database, runs every migration and creates the streams and stage consumers once,
// before the services start together: then nothing is left for them to race over, and the
// consumers get the fetcher's settings (FETCH_ACK_WAIT_MS, FETCH_MAX_DELIVER) from the start.
import type { Config } from "../../lib/config/index.js";
import { openDatabase } from "../../lib/db/index.js";
import { connectNats, natsOptionsFrom } from "../../lib/nats/index.js";

export async function prepareStorage(config: Pick<Config, "postgres" | "nats" | "fetcher">): Promise<void> {
  // the migration runner holds one connection for its advisory lock while migrating on another: pool ≥ 2
  const db = await openDatabase({ databaseUrl: config.postgres.url, entities: [], poolSize: 3 });
  await db.destroy();
  const nats = await connectNats(natsOptionsFrom(config, { name: "reviewflow-prepare", stageConsumers: true }));
  await nats.close();
}
