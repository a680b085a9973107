// Creates the database, runs every migration and creates the streams and stage consumers once,
// before the services start together: then nothing is left for them to race over, and the
// consumers get the fetcher's settings (FETCH_ACK_WAIT_MS, FETCH_MAX_DELIVER) from the start.
import type { Config } from "../../lib/config/index.js";
import { openDatabase } from "../../lib/db/index.js";
import { connectNats } from "../../lib/nats/index.js";

export async function prepareStorage(config: Readonly<Config>): Promise<void> {
  // the migration runner holds one connection for its advisory lock while migrating on another: pool ≥ 2
  const db = await openDatabase({ databaseUrl: config.databaseUrl, entities: [], poolSize: 3 });
  await db.destroy();
  const nats = await connectNats({
    url: config.natsServers,
    namespace: config.natsNamespace,
    workNamespace: config.natsWorkNamespace,
    replicas: config.natsReplicas,
    name: "reviewflow-prepare",
    ackWaitMs: config.fetchAckWaitMs,
    maxDeliver: config.fetchMaxDeliver,
    retentionDays: config.reviewRetentionDays,
  });
  await nats.close();
}
