import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import type { Config } from "../config/config.js";
import type { Logger } from "../log/logger.js";
import { createAckedPublisher, type AckedPublisher } from "./acked-publisher.js";
import { checkReplicas, clusterView } from "./cluster.js";
import { streamNames, type StreamNames } from "./names.js";
import { ensureStreams, type StreamOptions } from "./streams.js";

export interface Nats {
  connection: NatsConnection;
  js: JetStreamClient;
  /** How reviewflow publishes to JetStream and waits for the ack (see acked-publisher.ts). */
  publisher: AckedPublisher;
  jsm: JetStreamManager;
  names: StreamNames;
  close(): Promise<void>;
}

export interface NatsOptions extends StreamOptions {
  /** One server URL, several comma-separated (NATS_URL), or a list: the client tries each and learns the rest of the cluster. */
  url: string | readonly string[];
  namespace?: string;
  /** The work streams' namespace (FETCH, DEAD_LETTERS); default `namespace`. */
  workNamespace?: string;
  /** A name shown in the server's connection list. */
  name?: string;
  logger?: Logger;
  /** Skip creating streams (clients that only read). */
  skipEnsure?: boolean;
  /**
   * Do not build an Error (with its stack) for every request up front, only for requests that
   * fail: a hot publisher (every JetStream publish is a request) spends ~10 % of its CPU there.
   */
  noAsyncTraces?: boolean;
}

/**
 * The one translation of the config into connectNats options, so every process reaches the same
 * streams alike. Only who owns the FETCH stage consumers (the fetcher, and `npm start` preparing
 * storage) passes `stageConsumers`: their ack wait and max deliver follow FETCH_ACK_WAIT_MS and
 * FETCH_MAX_DELIVER, which a process that does not pass them leaves as they are.
 */
export function natsOptionsFrom(
  config: Pick<Config, "nats" | "fetcher">,
  options: Omit<NatsOptions, "url" | "namespace" | "workNamespace" | "replicas" | "retentionDays" | "ackWaitMs" | "maxDeliver"> & {
    stageConsumers?: boolean;
  },
): NatsOptions {
  const { stageConsumers, ...rest } = options;
  return {
    url: config.nats.servers,
    namespace: config.nats.namespace,
    workNamespace: config.nats.workNamespace,
    replicas: config.nats.replicas,
    retentionDays: config.fetcher.reviewRetentionDays,
    ...(stageConsumers ? { ackWaitMs: config.fetcher.ackWaitMs, maxDeliver: config.fetcher.maxDeliver } : {}),
    ...rest,
  };
}

/** NATS_URL's servers: `nats://a:4222,nats://b:4222` (or a list) as one URL each. */
export function natsServers(url: string | readonly string[]): string[] {
  return (typeof url === "string" ? url.split(",") : [...url]).map((s) => s.trim()).filter(Boolean);
}

/**
 * Connects (reconnecting forever, as a long-running service must) and ensures the streams exist,
 * with `replicas` each: refused with an error naming NATS_REPLICAS when the cluster cannot hold them.
 */
export async function connectNats(options: NatsOptions): Promise<Nats> {
  const connection = await connect({
    servers: natsServers(options.url),
    name: options.name ?? "reviewflow",
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    noAsyncTraces: options.noAsyncTraces,
  });
  if (options.logger) {
    const logger = options.logger;
    void (async () => {
      for await (const status of connection.status()) {
        if (status.type === "disconnect" || status.type === "reconnect")
          logger.warn(`nats ${status.type}`, { server: String((status as { server?: string }).server ?? "") });
      }
    })().catch(() => undefined);
  }
  const names = streamNames(options.namespace ?? "", options.workNamespace ?? options.namespace ?? "");
  try {
    const jsm = await jetstreamManager(connection);
    if (!options.skipEnsure) {
      const view = clusterView(connection);
      const replicas = options.replicas ?? 1;
      checkReplicas(view, replicas);
      const changes = await ensureStreams(jsm, names, options, view);
      for (const change of changes) {
        options.logger?.warn("stream replicas changed to NATS_REPLICAS", { stream: change.stream, from: change.from, to: change.to });
      }
      options.logger?.info("jetstream streams ready", {
        namespace: names.namespace,
        work_namespace: names.workNamespace,
        streams: [names.fetch.stream, names.reviews.stream, names.deadLetters.stream, names.tokenEvents.stream].join(","),
        replicas,
        cluster: view.cluster ?? "",
        servers: view.servers.length || 1,
      });
    }
    const publisher = createAckedPublisher(connection);
    return {
      connection,
      js: jetstream(connection),
      publisher,
      jsm,
      names,
      async close() {
        publisher.close();
        await connection.drain().catch(() => connection.close());
      },
    };
  } catch (err) {
    await connection.close().catch(() => undefined);
    throw err;
  }
}
