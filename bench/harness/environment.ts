// One isolated reviewflow for a drill or a benchmark: a Google emulator (in this process, so faults
// can be injected), a fresh database, a NATS namespace, the services as child processes, and a
// tenant with a connected client. With `switchableGoogle`, `switchGoogle()` puts a freshly seeded
// Google (and a new client for it) behind the same services, so several drills share one start.
// `close()` stops and removes all of it.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { startGoogleEmulator, type EmulatorClient, type EmulatorOptions, type GoogleEmulator } from "../../emulator/index.js";
import { deploymentNamespace, loadConfig } from "../../lib/config/index.js";
import { dropDatabase } from "../../lib/db/index.js";
import { deleteStreams, natsServers, streamNames, type StreamNames } from "../../lib/nats/index.js";
import { connectThroughConsent } from "../../scripts/support/consent.js";
import { seedDemo } from "../../scripts/support/demo-seed.js";
import { startGoogleProxy, type GoogleProxy } from "./google-proxy.js";
import { startStack, type Stack, type StackOptions } from "./stack.js";

export const BENCH_CLIENT: EmulatorClient = { id: "bench-client.apps.googleusercontent.com", secret: "bench-secret" };

type GoogleOptions = Omit<EmulatorOptions, "port" | "clients" | "autoApprove">;

export interface EnvironmentOptions {
  label: string;
  /** One NATS server, or a cluster's servers comma-separated. */
  natsUrl: string;
  /**
   * Leave NATS_NAMESPACE unset, as a deployment with default settings does: the services derive
   * the namespace from their database (default: a namespace of the run's own, set explicitly).
   */
  defaultNamespace?: boolean;
  emulator: GoogleOptions;
  stack?: Pick<StackOptions, "fetchers" | "gateway" | "env" | "echo" | "profileDir">;
  /** Parent directory for the services' logs (default: a temporary directory). */
  logRoot?: string;
  /** Emulator answers consent at once (default true); false shows the consent page a person clicks. */
  autoApprove?: boolean;
  /** Connect the client through the consent flow (default true). */
  connect?: boolean;
  /** Put a switchable proxy between the services and the emulator (see switchGoogle). */
  switchableGoogle?: boolean;
}

export interface Environment {
  /** The current Google. */
  readonly emulator: GoogleEmulator;
  /** The current client (a connected one unless `connect: false`). */
  readonly clientId: string;
  /** The Google OAuth client the current emulator knows. */
  readonly googleClient: EmulatorClient;
  stack: Stack;
  databaseUrl: string;
  namespace: string;
  names: StreamNames;
  /** The harness's own NATS connection, to watch and read streams. */
  nats: NatsConnection;
  logDir: string;
  /**
   * Replaces Google with a freshly seeded one under a new OAuth client, and registers and connects
   * a new reviewflow client for it: what follows counts on its own by that client's id (REVIEWS
   * keeps the earlier events).
   */
  switchGoogle(options: GoogleOptions, label: string): Promise<void>;
  /**
   * Connects another tenant's client to the same Google project and data (through consent, as
   * the first); `clientId` names it from then on. Its jobs store and publish copies of their own.
   */
  addClient(label: string): Promise<void>;
  /** Stops and removes everything; the services' logs too unless `keepLogs` (to read after a failure). */
  close(options?: { keepLogs?: boolean }): Promise<void>;
}

/** A database on the configured Postgres server (DATABASE_URL's host), named for this run. */
export function scratchDatabaseUrl(label: string): string {
  const url = new URL(process.env.DRILL_POSTGRES_URL ?? loadConfig(process.env).postgres.url);
  url.pathname = `/rf_${label
    .replace(/[^a-z0-9]/gi, "")
    .toLowerCase()
    .slice(0, 20)}_${randomBytes(4).toString("hex")}`;
  return url.toString();
}

export async function createEnvironment(options: EnvironmentOptions): Promise<Environment> {
  const databaseUrl = scratchDatabaseUrl(options.label);
  const namespace = options.defaultNamespace
    ? deploymentNamespace(databaseUrl)
    : `${options.label.replace(/[^A-Za-z0-9]/g, "").slice(0, 12)}${randomBytes(3).toString("hex")}`;
  const logDir = mkdtempSync(path.join(options.logRoot ?? os.tmpdir(), `rf-${options.label.replace(/[^A-Za-z0-9-]/g, "")}-`));
  // default settings keep DESIGN.md's public stream names (shared by every deployment on the
  // NATS) and put only the work streams in the deployment's own namespace
  const names = options.defaultNamespace ? streamNames("", namespace) : streamNames(namespace);
  let googleClient = BENCH_CLIENT;
  let emulator = await startGoogleEmulator({
    ...options.emulator,
    port: 0,
    clients: [googleClient],
    autoApprove: options.autoApprove ?? true,
  });
  let proxy: GoogleProxy | undefined;
  let stack: Stack | undefined;
  let nats: NatsConnection | undefined;
  let clientId = "";

  const close = async (closeOptions: { keepLogs?: boolean } = {}) => {
    await stack?.stop().catch(() => undefined);
    if (nats) {
      const jsm = await jetstreamManager(nats).catch(() => undefined);
      // the public streams of a default-settings deployment are shared: only its own go
      if (jsm) await deleteStreams(jsm, names, options.defaultNamespace ? { workOnly: true } : undefined).catch(() => undefined);
      await nats.close().catch(() => undefined);
    }
    await proxy?.close().catch(() => undefined);
    await emulator.close().catch(() => undefined);
    await dropDatabase(databaseUrl).catch(() => undefined);
    // BENCH_KEEP_LOGS=1 keeps every run's service logs (a slow run is read after the fact)
    if (closeOptions.keepLogs) return;
    if (process.env.BENCH_KEEP_LOGS === "1") process.stderr.write(`services' logs kept in ${logDir}\n`);
    else rmSync(logDir, { recursive: true, force: true });
  };
  const addClient = async (label: string) => {
    const seed = await seedDemo(stack!.token, {
      tenantName: label,
      clientName: `${label} client`,
      googleClientId: googleClient.id,
      clientSecret: googleClient.secret,
      redirectUri: `${stack!.gatewayUrl ?? "http://127.0.0.1:9"}/auth/callback`,
      branches: [],
    });
    clientId = seed.client.id;
    if (options.connect ?? true)
      await connectThroughConsent(stack!.token, clientId, { completeVia: stack!.gatewayUrl ? "redirect" : "token-service" });
  };

  try {
    if (options.switchableGoogle) proxy = await startGoogleProxy(emulator.url);
    stack = await startStack({
      databaseUrl,
      natsUrl: options.natsUrl,
      namespace: options.defaultNamespace ? undefined : namespace,
      googleUrl: proxy?.url ?? emulator.url,
      logDir,
      ...options.stack,
    });
    nats = await connect({
      servers: natsServers(options.natsUrl),
      name: `harness-${options.label}`,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
    });
    await addClient(options.label);
  } catch (err) {
    await close({ keepLogs: true });
    throw err;
  }
  return {
    get emulator() {
      return emulator;
    },
    get clientId() {
      return clientId;
    },
    get googleClient() {
      return googleClient;
    },
    stack,
    databaseUrl,
    namespace,
    names,
    nats,
    logDir,
    addClient,
    async switchGoogle(google, label) {
      if (!proxy) throw new Error("switchGoogle needs an environment created with switchableGoogle");
      // a new Google project, so no cached token or quota of the last one carries over
      googleClient = {
        id: `${label.replace(/[^a-z0-9-]/gi, "").toLowerCase()}-${randomBytes(3).toString("hex")}.apps.googleusercontent.com`,
        secret: randomBytes(12).toString("hex"),
      };
      const next = await startGoogleEmulator({ ...google, port: 0, clients: [googleClient], autoApprove: options.autoApprove ?? true });
      proxy.setTarget(next.url);
      const previous = emulator;
      emulator = next;
      await previous.close();
      await addClient(label);
      // REVIEWS is not purged: what follows is told apart by its client id. A purge between
      // cluster drills once came back after a leader's kill -9 on Debian's nats-server 2.9.10
      // (the previous drill's purged events reappeared), which a deployment that never purges
      // REVIEWS does not see; the drills measure the product, not purges.
    },
    close,
  };
}
