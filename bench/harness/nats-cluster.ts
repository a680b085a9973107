// Three nats-servers (Debian's) as one JetStream cluster on loopback: each with its own client
// port, route port, store directory and server name, all in one named cluster, every route listed
// on every node. The cluster drills kill, stop and start single nodes; `leaderOf` says which node
// leads a stream's RAFT group right now.
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { randomBytes } from "node:crypto";
import { freePorts } from "../../scripts/support/ports.js";
import { natsProcess, waitFor, type NatsProcess } from "./nats-server.js";

export interface NatsNode extends NatsProcess {
  /** Its server_name (what a stream's cluster info names as leader). */
  name: string;
  url: string;
}

export interface NatsCluster {
  name: string;
  nodes: NatsNode[];
  /** Every node's client URL, comma-separated: what NATS_URL is set to. */
  url: string;
  node(name: string): NatsNode | undefined;
  /** The node leading `stream` right now. */
  leaderOf(nc: NatsConnection, stream: string): Promise<NatsNode>;
  /** Waits until every given stream has a leader and every replica current, and each of its consumers a leader and a current quorum (after a node came back). */
  waitForStreams(nc: NatsConnection, streams: string[], timeoutMs?: number): Promise<void>;
  /** Stops every node and deletes the stores. */
  close(): Promise<void>;
}

export async function startNatsCluster(options: { size?: number } = {}): Promise<NatsCluster> {
  const size = options.size ?? 3;
  const ports = await freePorts(size * 2);
  const clientPorts = ports.slice(0, size);
  const routePorts = ports.slice(size);
  const name = `rf-drill-${randomBytes(3).toString("hex")}`;
  const routes = routePorts.map((p) => `nats://127.0.0.1:${p}`).join(",");
  const nodes: NatsNode[] = clientPorts.map((port, i) =>
    Object.assign(
      natsProcess({
        port,
        label: `${name}-n${i + 1}`,
        args: ["-n", `n${i + 1}`, "--cluster_name", name, "--cluster", `nats://127.0.0.1:${routePorts[i]}`, "--routes", routes],
      }),
      { name: `n${i + 1}`, url: `nats://127.0.0.1:${port}` },
    ),
  );
  const url = nodes.map((n) => n.url).join(",");
  const cluster: NatsCluster = {
    name,
    nodes,
    url,
    node: (serverName) => nodes.find((n) => n.name === serverName),
    async leaderOf(nc, stream) {
      const jsm = await jetstreamManager(nc, { timeout: 5_000 });
      const leader = (await jsm.streams.info(stream)).cluster?.leader;
      const node = leader ? nodes.find((n) => n.name === leader) : undefined;
      if (!node)
        throw new Error(`stream ${stream} has no leader among ${nodes.map((n) => n.name).join(", ")} (says ${leader ?? "nothing"})`);
      return node;
    },
    async waitForStreams(nc, streams, timeoutMs = 60_000) {
      const jsm = await jetstreamManager(nc, { timeout: 2_000, checkAPI: false });
      await waitFor(
        async () => {
          for (const stream of streams) {
            const info = await jsm.streams.info(stream).catch(() => undefined);
            if (!settled(info?.cluster, info?.config.num_replicas ?? 1, "all")) return false;
            try {
              for await (const consumer of jsm.consumers.list(stream)) {
                if (!settled(consumer.cluster, consumer.config.num_replicas || info!.config.num_replicas, "quorum")) return false;
              }
            } catch {
              return false;
            }
          }
          return true;
        },
        timeoutMs,
        `streams ${streams.join(", ")} did not get a leader and current replicas`,
      );
    },
    async close() {
      await Promise.all(nodes.map((n) => n.remove()));
    },
  };
  try {
    await Promise.all(nodes.map((n) => n.start()));
    // the cluster is up when JetStream's meta group has a leader: listing streams needs one
    const nc = await connect({ servers: nodes.map((n) => n.url), maxReconnectAttempts: -1 });
    try {
      const jsm = await jetstreamManager(nc, { timeout: 2_000, checkAPI: false });
      await waitFor(
        async () => {
          try {
            for await (const _ of jsm.streams.list()) break;
            return (nc.info?.connect_urls?.length ?? 0) >= size;
          } catch {
            return false;
          }
        },
        30_000,
        `the ${size}-node cluster did not elect a JetStream leader`,
      );
    } finally {
      await nc.close();
    }
  } catch (err) {
    await cluster.close();
    throw err;
  }
  return cluster;
}

/**
 * A RAFT group with a leader and its replicas current: all of them (a stream's data), or a quorum
 * (an idle consumer's follower can show a lag of a couple of entries until the next ack).
 */
function settled(
  cluster: { leader?: string; replicas?: { current: boolean; offline?: boolean }[] } | undefined,
  replicas: number,
  need: "all" | "quorum",
): boolean {
  const peers = cluster?.replicas ?? [];
  const current = 1 + peers.filter((r) => r.current && !r.offline).length;
  return !!cluster?.leader && peers.length + 1 >= replicas && current >= (need === "all" ? replicas : Math.floor(replicas / 2) + 1);
}
