// Replicated streams on a three-node cluster of the test's own (Debian's nats-server): created at
// NATS_REPLICAS, changed to it when they were made with other replicas, refused with an error
// naming NATS_REPLICAS when the cluster cannot hold them; and a quorum that is gone is seen.
import assert from "node:assert/strict";
import { startNatsCluster, type NatsCluster } from "../../bench/harness/nats-cluster.js";
import { natsServerBinary } from "../../bench/harness/nats-server.js";
import { TEST_NATS_URL, uniqueNamespace } from "../../test/helpers/streams.js";
import { connectNats, deleteStreams, jetStreamUnavailable, streamNames, type Nats } from "./index.js";

describe("JetStream streams on a cluster (NATS_REPLICAS)", function () {
  this.timeout(120_000);
  let cluster: NatsCluster | undefined;
  const opened: Nats[] = [];
  const open = async (namespace: string, replicas: number, skipEnsure = false) => {
    const nats = await connectNats({ url: cluster!.url, namespace, replicas, skipEnsure });
    opened.push(nats);
    return nats;
  };
  /** Each stream's configured replicas, once its RAFT group has that many peers (a change takes a moment to move the data). */
  const replicasOf = async (nats: Nats) => {
    const out: Record<string, number> = {};
    for (const stream of [
      nats.names.fetch.stream,
      nats.names.reviews.stream,
      nats.names.deadLetters.stream,
      nats.names.tokenEvents.stream,
    ]) {
      let info = await nats.jsm.streams.info(stream);
      for (let i = 0; i < 100 && (info.cluster?.replicas?.length ?? 0) + 1 !== info.config.num_replicas; i++) {
        await new Promise((r) => setTimeout(r, 200));
        info = await nats.jsm.streams.info(stream);
      }
      assert.equal((info.cluster?.replicas?.length ?? 0) + 1, info.config.num_replicas, `${stream}: ${JSON.stringify(info.cluster)}`);
      out[stream.slice(nats.names.namespace.length + 1)] = info.config.num_replicas;
    }
    return out;
  };

  before(async function () {
    if (!natsServerBinary()) return this.skip();
    cluster = await startNatsCluster();
  });
  after(async () => {
    for (const nats of opened) await nats.close().catch(() => undefined);
    await cluster?.close();
  });

  it("creates every stream with NATS_REPLICAS replicas, and the stage consumers with them", async () => {
    const nats = await open(uniqueNamespace(), 3);
    assert.deepEqual(await replicasOf(nats), { FETCH: 3, REVIEWS: 3, DEAD_LETTERS: 3, TOKEN_EVENTS: 3 });
    const consumer = await nats.jsm.consumers.info(nats.names.fetch.stream, "fetch-reviews");
    assert.equal((consumer.cluster?.replicas?.length ?? 0) + 1, 3);
  });

  it("changes streams created with other replicas to NATS_REPLICAS, up and down, keeping their messages", async () => {
    const namespace = uniqueNamespace();
    const first = await open(namespace, 1);
    assert.deepEqual(await replicasOf(first), { FETCH: 1, REVIEWS: 1, DEAD_LETTERS: 1, TOKEN_EVENTS: 1 });
    await first.js.publish(first.names.reviews.subject("c", "l"), new Uint8Array([1]));
    const scaledUp = await open(namespace, 3);
    assert.deepEqual(await replicasOf(scaledUp), { FETCH: 3, REVIEWS: 3, DEAD_LETTERS: 3, TOKEN_EVENTS: 3 });
    assert.equal((await scaledUp.jsm.streams.info(scaledUp.names.reviews.stream)).state.messages, 1);
    const scaledDown = await open(namespace, 1);
    assert.deepEqual(await replicasOf(scaledDown), { FETCH: 1, REVIEWS: 1, DEAD_LETTERS: 1, TOKEN_EVENTS: 1 });
    await deleteStreams(scaledDown.jsm, scaledDown.names);
  });

  it("refuses more replicas than the cluster has JetStream servers, naming NATS_REPLICAS and what answered", async () => {
    const namespace = uniqueNamespace();
    await assert.rejects(open(namespace, 5), (err: Error) => {
      assert.match(err.message, /^NATS_REPLICAS=5: stream \S+_FETCH cannot have 5 replicas/);
      assert.match(err.message, /advertises 3 servers, of which 3 answered with JetStream/);
      return true;
    });
  });

  it("refuses replicas on a single server that is not clustered", async () => {
    await assert.rejects(connectNats({ url: TEST_NATS_URL, namespace: uniqueNamespace(), replicas: 3 }), (err: Error) => {
      assert.match(
        err.message,
        /^NATS_REPLICAS=3 needs a JetStream cluster of at least 3 servers, but NATS server \S+ is not clustered \(1 JetStream server answered\)/,
      );
      return true;
    });
  });

  it("takes a NATS_URL that lists the servers, comma-separated", async () => {
    const nats = await connectNats({ url: cluster!.nodes.map((n) => ` ${n.url} `).join(","), namespace: uniqueNamespace(), replicas: 3 });
    opened.push(nats);
    assert.equal((await nats.jsm.streams.info(nats.names.fetch.stream)).config.num_replicas, 3);
  });

  it("tells that a stream lost its quorum while two of three servers are down, and not once they are back", async () => {
    const nats = await open(uniqueNamespace(), 3);
    const stream = nats.names.fetch.stream;
    assert.equal(await jetStreamUnavailable(nats.connection, stream, "fetch-accounts"), undefined);
    const leader = await cluster!.leaderOf(nats.connection, stream);
    const down = cluster!.nodes.filter((n) => n !== leader);
    for (const node of down) await node.kill();
    let reason: string | undefined;
    for (let i = 0; i < 60 && !reason; i++) {
      reason = await jetStreamUnavailable(nats.connection, stream, "fetch-accounts");
      if (!reason) await new Promise((r) => setTimeout(r, 500));
    }
    assert.match(reason ?? "", /quorum|no leader|did not answer|unavailable/i);
    for (const node of down) await node.start();
    await cluster!.waitForStreams(nats.connection, [stream]);
    reason = await jetStreamUnavailable(nats.connection, stream, "fetch-accounts");
    for (let i = 0; i < 60 && reason; i++) {
      await new Promise((r) => setTimeout(r, 500));
      reason = await jetStreamUnavailable(nats.connection, stream, "fetch-accounts");
    }
    assert.equal(reason, undefined);
  });

  // keep the names' helper honest for a namespace of the cluster tests
  it("names the streams under the namespace", () => {
    assert.equal(streamNames("x1").fetch.stream, "x1_FETCH");
  });
});
