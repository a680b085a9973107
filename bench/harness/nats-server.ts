// A nats-server of the drill's own (Debian's /usr/sbin/nats-server, JetStream on, file storage in
// a temporary directory), so a drill can stop and restart it without touching anyone else's; or
// three of them as one cluster (nats-cluster.ts), built from the same process handle.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort, isPortOpen } from "../../scripts/support/ports.js";

export interface NatsServer {
  url: string;
  port: number;
  /** The server's pid while it runs (CPU accounting). */
  readonly pid: number | undefined;
  /** Stops (SIGTERM, as an orderly restart would) and starts it again on the same port and store. */
  restart(downMs?: number): Promise<void>;
  /** Stops it for good and deletes its store. */
  close(): Promise<void>;
}

const CANDIDATES = ["/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"];

export function natsServerBinary(): string | undefined {
  return process.env.NATS_SERVER_BIN ?? CANDIDATES.find((p) => existsSync(p));
}

export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** One nats-server process that can be started, stopped (SIGTERM) and killed (SIGKILL) again and again on the same port and store. */
export interface NatsProcess {
  readonly port: number;
  readonly storeDir: string;
  /** The running process's pid (undefined while it is down). */
  readonly pid: number | undefined;
  readonly running: boolean;
  start(): Promise<void>;
  /** SIGTERM (SIGKILL after 5 s), and waits for the exit. */
  stop(): Promise<void>;
  /** kill -9, and waits for the exit. */
  kill(): Promise<void>;
  /** Stops it and deletes its store. */
  remove(): Promise<void>;
}

export function natsProcess(options: { port: number; args: string[]; label: string }): NatsProcess {
  const binary = natsServerBinary();
  if (!binary) throw new Error("nats-server not found (apt-get install nats-server, or set NATS_SERVER_BIN)");
  const storeDir = mkdtempSync(path.join(os.tmpdir(), `rf-${options.label}-`));
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const running = () => !!child && child.exitCode === null && child.signalCode === null;
  const end = async (signal: NodeJS.Signals) => {
    if (!child || !running()) return;
    child.kill(signal);
    const timer = setTimeout(() => child?.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
  };
  return {
    port: options.port,
    storeDir,
    get pid() {
      return running() ? child?.pid : undefined;
    },
    get running() {
      return running();
    },
    async start() {
      if (running()) return;
      const proc = spawn(binary, ["-js", "-a", "127.0.0.1", "-p", String(options.port), "-sd", storeDir, ...options.args], {
        stdio: ["ignore", "ignore", "pipe"],
      });
      let stderr = "";
      proc.stderr?.on("data", (chunk: Buffer) => {
        stderr = (stderr + chunk.toString()).slice(-2000);
      });
      child = proc;
      exited = new Promise((resolve) => proc.once("exit", () => resolve()));
      await waitFor(
        async () => {
          if (proc.exitCode !== null) throw new Error(`nats-server exited: ${stderr}`);
          return isPortOpen(options.port, "127.0.0.1", 200);
        },
        10_000,
        "nats-server did not listen",
      );
    },
    stop: () => end("SIGTERM"),
    kill: () => end("SIGKILL"),
    async remove() {
      await end("SIGTERM");
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}

export async function startNatsServer(): Promise<NatsServer> {
  const port = await freePort();
  const server = natsProcess({ port, args: [], label: "drill-nats" });
  await server.start();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    get pid() {
      return server.pid;
    },
    async restart(downMs = 1_000) {
      await server.stop();
      await new Promise((r) => setTimeout(r, downMs));
      await server.start();
    },
    close: () => server.remove(),
  };
}
