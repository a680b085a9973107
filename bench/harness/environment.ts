// One isolated reviewflow for a drill or a benchmark: a Google emulator (in this process, so faults
// can be injected), a fresh database, a NATS namespace, the services as child processes, and a
// tenant with a connected client. `close()` stops and removes all of it.
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { startGoogleEmulator, type EmulatorOptions, type GoogleEmulator } from "../../emulator/index.js";
import { loadConfig } from "../../lib/config/index.js";
import { dropDatabase } from "../../lib/db/index.js";
import { deleteStreams, streamNames, type StreamNames } from "../../lib/nats/index.js";
import { jetstreamManager } from "@nats-io/jetstream";
import { connectThroughConsent } from "../../scripts/support/consent.js";
import { seedDemo } from "../../scripts/support/demo-seed.js";
import { startStack, type Stack, type StackOptions } from "./stack.js";

export const BENCH_CLIENT = { id: "bench-client.apps.googleusercontent.com", secret: "bench-secret" };

export interface EnvironmentOptions {
  label: string;
  natsUrl: string;
  emulator: Omit<EmulatorOptions, "port" | "clients" | "autoApprove">;
  stack?: Pick<StackOptions, "fetchers" | "gateway" | "env" | "echo">;
  /** Parent directory for the services' logs (default: a temporary directory). */
  logRoot?: string;
  /** Emulator answers consent at once (default true); false shows the consent page a person clicks. */
  autoApprove?: boolean;
  /** Connect the client through the consent flow (default true). */
  connect?: boolean;
}

export interface Environment {
  emulator: GoogleEmulator;
  stack: Stack;
  databaseUrl: string;
  namespace: string;
  names: StreamNames;
  /** The harness's own NATS connection, to watch and read streams. */
  nats: NatsConnection;
  clientId: string;
  logDir: string;
  close(): Promise<void>;
}

/** A database on the configured Postgres server (DATABASE_URL's host), named for this run. */
export function scratchDatabaseUrl(label: string): string {
  const url = new URL(process.env.DRILL_POSTGRES_URL ?? loadConfig(process.env).databaseUrl);
  url.pathname = `/rf_${label.replace(/[^a-z0-9]/gi, "").toLowerCase().slice(0, 20)}_${randomBytes(4).toString("hex")}`;
  return url.toString();
}

export async function createEnvironment(options: EnvironmentOptions): Promise<Environment> {
  const namespace = `${options.label.replace(/[^A-Za-z0-9]/g, "").slice(0, 12)}${randomBytes(3).toString("hex")}`;
  const databaseUrl = scratchDatabaseUrl(options.label);
  const logDir = mkdtempSync(path.join(options.logRoot ?? os.tmpdir(), `rf-${options.label.replace(/[^A-Za-z0-9-]/g, "")}-`));
  const emulator = await startGoogleEmulator({ ...options.emulator, port: 0, clients: [BENCH_CLIENT], autoApprove: options.autoApprove ?? true });
  let stack: Stack | undefined;
  let nats: NatsConnection | undefined;
  const names = streamNames(namespace);
  const close = async () => {
    await stack?.stop().catch(() => undefined);
    if (nats) {
      const jsm = await jetstreamManager(nats).catch(() => undefined);
      if (jsm) await deleteStreams(jsm, names).catch(() => undefined);
      await nats.close().catch(() => undefined);
    }
    await emulator.close().catch(() => undefined);
    await dropDatabase(databaseUrl).catch(() => undefined);
  };
  try {
    stack = await startStack({ databaseUrl, natsUrl: options.natsUrl, namespace, googleUrl: emulator.url, logDir, ...options.stack });
    nats = await connect({ servers: options.natsUrl, name: `harness-${options.label}`, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
    const seed = await seedDemo(stack.token, {
      tenantName: options.label,
      clientName: `${options.label} client`,
      googleClientId: BENCH_CLIENT.id,
      clientSecret: BENCH_CLIENT.secret,
      redirectUri: `${stack.gatewayUrl ?? "http://127.0.0.1:9"}/auth/callback`,
      branches: [],
    });
    if (options.connect ?? true) await connectThroughConsent(stack.token, seed.client.id, { completeVia: stack.gatewayUrl ? "redirect" : "token-service" });
    return { emulator, stack, databaseUrl, namespace, names, nats, clientId: seed.client.id, logDir, close };
  } catch (err) {
    await close();
    throw err;
  }
}
