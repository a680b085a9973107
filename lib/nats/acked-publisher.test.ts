import assert from "node:assert/strict";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { errors as natsErrors, headers, type NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { createAckedPublisher, JetStreamPublishError, PublishTimeoutError } from "./acked-publisher.js";
import { TEST_NATS_URL, uniqueNamespace } from "../../test/helpers/streams.js";

describe("acked publisher (JetStream publishes answered on one subscription)", () => {
  const namespace = uniqueNamespace();
  const stream = `${namespace}_ACKED`;
  let nc: NatsConnection;
  let jsm: JetStreamManager;

  before(async () => {
    nc = await connect({ servers: TEST_NATS_URL });
    jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: stream, subjects: [`${namespace}.acked.>`] });
  });

  after(async () => {
    await jsm.streams.delete(stream).catch(() => undefined);
    await nc.close();
  });

  it("answers each of many concurrent publishes with its own sequence, and a repeated id as a duplicate", async () => {
    const publisher = createAckedPublisher(nc);
    try {
      const acks = await Promise.all(
        Array.from({ length: 200 }, (_, i) => publisher.publish(`${namespace}.acked.a`, new Uint8Array([i % 256]), { msgID: `m-${i}` })),
      );
      assert.deepEqual(
        acks.map((a) => a.seq).sort((a, b) => a - b),
        Array.from({ length: 200 }, (_, i) => i + 1),
      );
      assert.ok(acks.every((a) => a.stream === stream && !a.duplicate));
      // each caller got the ack of its own message
      for (const [i, ack] of acks.entries()) {
        const stored = await jsm.streams.getMessage(stream, { seq: ack.seq });
        assert.equal(stored?.header.get("Nats-Msg-Id"), `m-${i}`);
      }

      const h = headers();
      h.set("Reviewflow-Type", "test");
      const again = await publisher.publish(`${namespace}.acked.a`, new Uint8Array([7]), { msgID: "m-7", headers: h });
      assert.equal(again.duplicate, true);
      assert.equal(again.seq, acks[7]!.seq);
      assert.equal((await jsm.streams.info(stream)).state.messages, 200);
    } finally {
      publisher.close();
    }
  });

  it("fails a publish that no stream takes, that JetStream refuses, or whose ack does not come in time", async () => {
    const publisher = createAckedPublisher(nc);
    try {
      await assert.rejects(publisher.publish(`${namespace}.nobody`, new Uint8Array([1])), (err: unknown) => {
        assert.ok(err instanceof JetStreamPublishError);
        assert.equal(err.errCode, 503);
        assert.equal(err.unavailable, true);
        return true;
      });

      const wrongStream = headers();
      wrongStream.set("Nats-Expected-Stream", "ANOTHER");
      await assert.rejects(publisher.publish(`${namespace}.acked.b`, new Uint8Array([1]), { headers: wrongStream }), (err: unknown) => {
        assert.ok(err instanceof JetStreamPublishError);
        assert.match(err.message, /refused/);
        assert.equal(err.errCode, 10060);
        assert.equal(err.unavailable, false);
        return true;
      });

      // a core subscriber takes the subject (no 503) and never answers
      const silent = nc.subscribe(`${namespace}.silent`);
      try {
        await assert.rejects(publisher.publish(`${namespace}.silent`, new Uint8Array([1]), { timeoutMs: 300 }), (err: unknown) => {
          assert.ok(err instanceof PublishTimeoutError);
          assert.ok(err instanceof natsErrors.TimeoutError, "reads as NATS not answering");
          return true;
        });
      } finally {
        silent.unsubscribe();
      }
    } finally {
      publisher.close();
    }
  });

  it("fails what is still waiting when it is closed, and refuses publishes after", async () => {
    const publisher = createAckedPublisher(nc);
    const silent = nc.subscribe(`${namespace}.silent2`);
    try {
      const waiting = publisher.publish(`${namespace}.silent2`, new Uint8Array([1]));
      publisher.close();
      await assert.rejects(waiting, /closed/);
      await assert.rejects(publisher.publish(`${namespace}.acked.c`, new Uint8Array([1])), /closed/);
    } finally {
      silent.unsubscribe();
    }
  });
});
