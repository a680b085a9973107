import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import type { Logger } from "../log/logger.js";
import { streamNames, type StreamNames } from "./names.js";
import { ensureStreams, type StreamOptions } from "./streams.js";

export interface Nats {
  connection: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  names: StreamNames;
  close(): Promise<void>;
}

export interface NatsOptions extends StreamOptions {
  url: string;
  namespace?: string;
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

/** Connects (reconnecting forever, as a long-running service must) and ensures the streams exist. */
export async function connectNats(options: NatsOptions): Promise<Nats> {
  const connection = await connect({
    servers: options.url,
    name: options.name ?? "reviewflow",
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    noAsyncTraces: options.noAsyncTraces,
  });
  if (options.logger) {
    const logger = options.logger;
    void (async () => {
      for await (const status of connection.status()) {
        if (status.type === "disconnect" || status.type === "reconnect") logger.warn(`nats ${status.type}`, { server: String((status as { server?: string }).server ?? "") });
      }
    })().catch(() => undefined);
  }
  const jsm = await jetstreamManager(connection);
  const names = streamNames(options.namespace ?? "");
  if (!options.skipEnsure) await ensureStreams(jsm, names, options);
  return {
    connection,
    js: jetstream(connection),
    jsm,
    names,
    async close() {
      await connection.drain().catch(() => connection.close());
    },
  };
}
