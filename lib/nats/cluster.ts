// What a service can learn about the NATS cluster it connected to, without the system account:
// the connected server's INFO (its name, its cluster, the client URLs of the cluster's servers),
// each of those servers' own INFO (does it run JetStream?), and a stream's RAFT group as its
// leader reports it. Used at start-up (can the cluster hold NATS_REPLICAS?) and before taking
// new work (is there a quorum to write to?).
import { jetstreamManager, JetStreamApiError, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";

/** The connected server's view of its cluster. */
export interface ClusterView {
  /** The server this connection is on (its server_name). */
  server: string;
  /** The cluster's name; undefined for a server that is not clustered. */
  cluster?: string;
  jetstream: boolean;
  /** Client URLs of the cluster's servers as the server advertises them (itself included; empty when it advertises none). */
  servers: string[];
}

export function clusterView(nc: NatsConnection): ClusterView {
  const info = nc.info;
  return {
    server: info?.server_name || info?.server_id || "unknown",
    cluster: info?.cluster || undefined,
    jetstream: info?.jetstream === true,
    servers: [...new Set(info?.connect_urls ?? [])],
  };
}

/** A start-up failure that a configuration change (NATS_URL, NATS_REPLICAS, the cluster) fixes. */
export class NatsSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NatsSetupError";
  }
}

/** Refuses, before any stream is touched, what cannot work: no JetStream, or replicas on a single server. */
export function checkReplicas(view: ClusterView, replicas: number): void {
  if (!view.jetstream)
    throw new NatsSetupError(`NATS server ${view.server} has no JetStream: start nats-server with -js (and a store directory)`);
  if (replicas > 1 && !view.cluster) {
    throw new NatsSetupError(
      `NATS_REPLICAS=${replicas} needs a JetStream cluster of at least ${replicas} servers, but NATS server ${view.server} is not clustered (1 JetStream server answered): set NATS_REPLICAS=1, or list the cluster's servers in NATS_URL`,
    );
  }
}

/** How many of the cluster's advertised servers answer, and how many of them run JetStream (each asked directly, briefly). */
export async function countJetStreamServers(view: ClusterView, timeoutMs = 1_500): Promise<{ answered: string[]; jetstream: string[] }> {
  const answered: string[] = [];
  const jetstream: string[] = [];
  await Promise.all(
    view.servers.map(async (server) => {
      const nc = await connect({
        servers: server,
        timeout: timeoutMs,
        reconnect: false,
        maxReconnectAttempts: 0,
        name: "reviewflow-cluster-check",
      }).catch(() => undefined);
      if (!nc) return;
      answered.push(server);
      if (nc.info?.jetstream) jetstream.push(server);
      await nc.close().catch(() => undefined);
    }),
  );
  return { answered: answered.sort(), jetstream: jetstream.sort() };
}

/**
 * The server's API error codes (nats-server's errors.json) for a stream whose replicas cannot be
 * placed; @nats-io/jetstream's JetStreamApiCodes names only the common ones.
 */
const PLACEMENT_CODES = new Set([
  10005, // JSClusterNoPeersErrF: no suitable peers for placement
  10023, // JSInsufficientResourcesErr: insufficient resources
  10074, // JSStreamReplicasNotSupportedErr: replicas > 1 not supported in non-clustered mode
]);

/**
 * A stream that cannot be created or updated at `replicas` as an error that says so: NATS_REPLICAS,
 * what the cluster has, what to change. Undefined when `err` is about something else.
 */
export async function replicaPlacementError(
  err: unknown,
  stream: string,
  replicas: number,
  view?: ClusterView,
): Promise<NatsSetupError | undefined> {
  if (!(err instanceof JetStreamApiError) || !PLACEMENT_CODES.has(err.code)) return undefined;
  const message = err.message;
  let cluster = "";
  if (view?.cluster) {
    const counted = view.servers.length ? await countJetStreamServers(view) : undefined;
    cluster = counted
      ? `cluster "${view.cluster}" advertises ${view.servers.length} server${view.servers.length === 1 ? "" : "s"}, of which ${counted.jetstream.length} answered with JetStream (${counted.jetstream.join(", ") || "none"})`
      : `cluster "${view.cluster}" does not advertise its servers`;
  } else if (view) {
    cluster = `NATS server ${view.server} is not clustered (1 JetStream server answered)`;
  }
  return new NatsSetupError(
    `NATS_REPLICAS=${replicas}: stream ${stream} cannot have ${replicas} replicas (${message})${cluster ? `; ${cluster}` : ""}. Each replica needs its own JetStream server: start more, or lower NATS_REPLICAS`,
  );
}

/** A replica that has not been heard from for this long does not count towards a quorum. */
const REPLICA_SILENCE_NS = 5e9;

/**
 * Why JetStream cannot take a write on `stream` (and a pull from `consumer`) right now: no
 * answer, no leader, or fewer current replicas than a quorum, as the leader last heard them.
 * Undefined when it can. A cluster that lost its quorum answers this way within seconds, well
 * before the servers' own leader step-down.
 */
export async function jetStreamUnavailable(
  nc: NatsConnection,
  stream: string,
  consumer?: string,
  timeoutMs = 2_000,
): Promise<string | undefined> {
  let jsm: JetStreamManager;
  try {
    jsm = await jetstreamManager(nc, { timeout: timeoutMs, checkAPI: false });
    const info = await jsm.streams.info(stream);
    const lacking = quorumLacking(`stream ${stream}`, info.config.num_replicas || 1, info.cluster);
    if (lacking) return lacking;
    if (consumer) {
      const ci = await jsm.consumers.info(stream, consumer);
      return quorumLacking(`consumer ${consumer}`, ci.config.num_replicas || info.config.num_replicas || 1, ci.cluster);
    }
    return undefined;
  } catch (err) {
    const e = err as { message?: string; name?: string };
    const why = e?.name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : String(e?.message ?? err);
    return `JetStream did not answer about stream ${stream} (${why}): the NATS servers holding it are down or lost their quorum`;
  }
}

function quorumLacking(
  what: string,
  replicas: number,
  cluster: { leader?: string; replicas?: { name: string; active: number; offline?: boolean }[] } | undefined,
): string | undefined {
  if (replicas <= 1) return undefined;
  if (!cluster?.leader) return `${what} has no leader (its JetStream servers lost their quorum)`;
  // heard from lately, not "current": a live follower a few entries behind (load, an idle
  // consumer's last ack) is still part of the quorum
  const live = 1 + (cluster.replicas ?? []).filter((r) => !r.offline && r.active < REPLICA_SILENCE_NS).length;
  const quorum = Math.floor(replicas / 2) + 1;
  if (live < quorum)
    return `${what} has ${live} of ${replicas} replicas reachable, fewer than its quorum of ${quorum} (NATS servers down?)`;
  return undefined;
}
