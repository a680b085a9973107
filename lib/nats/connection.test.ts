import assert from "node:assert/strict";
import { loadConfig } from "../config/index.js";
import { natsOptionsFrom } from "./connection.js";

describe("natsOptionsFrom", () => {
  const config = loadConfig({
    NATS_URL: "nats://n1:4222,nats://n2:4222",
    NATS_NAMESPACE: "eu",
    NATS_REPLICAS: "3",
    REVIEW_RETENTION_DAYS: "7",
    FETCH_ACK_WAIT_MS: "5000",
    FETCH_MAX_DELIVER: "4",
  });

  it("gives every process the same servers, namespaces, replicas and retention", () => {
    assert.deepEqual(natsOptionsFrom(config, { name: "reviewflow-token" }), {
      url: ["nats://n1:4222", "nats://n2:4222"],
      namespace: "eu",
      workNamespace: "eu",
      replicas: 3,
      retentionDays: 7,
      name: "reviewflow-token",
    });
  });

  it("sets the stage consumers' ack wait and max deliver only for their owner", () => {
    const options = natsOptionsFrom(config, { name: "reviewflow-fetcher", stageConsumers: true });
    assert.deepEqual([options.ackWaitMs, options.maxDeliver], [5_000, 4]);
    assert.ok(!("stageConsumers" in options));
  });
});
