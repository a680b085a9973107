import assert from "node:assert/strict";
import { RetentionPolicy } from "@nats-io/jetstream";
import { connectNats, deleteStreams, STAGES, streamNames } from "./index.js";
import { isNotFound } from "./streams.js";
import { TEST_NATS_URL, uniqueNamespace } from "../../test/helpers/streams.js";

describe("JetStream streams and consumers", () => {
  const namespace = uniqueNamespace();
  const names = streamNames(namespace);

  after(async () => {
    const nats = await connectNats({ url: TEST_NATS_URL, namespace, skipEnsure: true });
    await deleteStreams(nats.jsm, names);
    await nats.close();
  });

  it("creates every stream and consumer, twice without error, with the configured retention", async () => {
    for (let i = 0; i < 2; i++) {
      const nats = await connectNats({ url: TEST_NATS_URL, namespace, retentionDays: 30, maxDeliver: 7 });
      await nats.close();
    }
    const nats = await connectNats({ url: TEST_NATS_URL, namespace, skipEnsure: true });
    try {
      const fetch = await nats.jsm.streams.info(names.fetch.stream);
      assert.equal(fetch.config.retention, RetentionPolicy.Workqueue);
      assert.deepEqual(fetch.config.subjects, [...STAGES.map((s) => `${namespace}.fetch.${s}`), `${namespace}.fetch.notifications`]);
      const notifications = await nats.jsm.consumers.info(names.fetch.stream, "fetch-notifications");
      assert.equal(notifications.config.filter_subject, `${namespace}.fetch.notifications`);
      const thirtyDays = 30 * 86_400 * 1e9;
      for (const stream of [names.reviews.stream, names.deadLetters.stream, names.tokenEvents.stream]) {
        const info = await nats.jsm.streams.info(stream);
        assert.equal(info.config.retention, RetentionPolicy.Limits);
        assert.equal(info.config.max_age, thirtyDays);
      }
      for (const stage of STAGES) {
        const consumer = await nats.jsm.consumers.info(names.fetch.stream, `fetch-${stage}`);
        assert.equal(consumer.config.filter_subject, `${namespace}.fetch.${stage}`);
        assert.equal(consumer.config.max_deliver, 7);
      }
    } finally {
      await nats.close();
    }
  });

  it("leaves the stage consumers' settings alone when a service connects without them", async () => {
    const owner = await connectNats({ url: TEST_NATS_URL, namespace, ackWaitMs: 2_000, maxDeliver: 5 });
    await owner.close();
    const other = await connectNats({ url: TEST_NATS_URL, namespace, retentionDays: 30 });
    try {
      const consumer = await other.jsm.consumers.info(names.fetch.stream, "fetch-reviews");
      assert.equal(consumer.config.max_deliver, 5);
      assert.equal(consumer.config.ack_wait, 2_000 * 1e6);
    } finally {
      await other.close();
    }
  });

  it("knows a missing stream or consumer by JetStream's API error code, and nothing else as missing", async () => {
    const nats = await connectNats({ url: TEST_NATS_URL, namespace, skipEnsure: true });
    try {
      const missingStream = await nats.jsm.streams.info(`${namespace}_NO_SUCH_STREAM`).catch((err: unknown) => err);
      assert.equal(isNotFound(missingStream), true);
      const missingConsumer = await nats.jsm.consumers.info(names.fetch.stream, "no-such-consumer").catch((err: unknown) => err);
      assert.equal(isNotFound(missingConsumer), true);
      // a message that merely says "not found" is not JetStream's answer
      assert.equal(isNotFound(new Error("file not found")), false);
    } finally {
      await nats.close();
    }
  });

  it("keeps subject tokens free of dots", () => {
    assert.equal(names.reviews.subject("c-1", "l-2"), `${namespace}.reviews.c-1.l-2`);
    assert.throws(() => names.reviews.subject("a.b", "l"), /cannot be a NATS subject token/);
  });
});
