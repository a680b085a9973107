// A nats-server of the drill's own (Debian's /usr/sbin/nats-server, JetStream on, file storage in
// a temporary directory), so a drill can stop and restart it without touching anyone else's.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort, isPortOpen } from "../../scripts/support/ports.js";

export interface NatsServer {
  url: string;
  port: number;
  /** Stops (SIGTERM, as an orderly restart would) and starts it again on the same port and store. */
  restart(downMs?: number): Promise<void>;
  /** Stops it for good and deletes its store. */
  close(): Promise<void>;
}

const CANDIDATES = ["/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"];

export function natsServerBinary(): string | undefined {
  return process.env.NATS_SERVER_BIN ?? CANDIDATES.find((p) => existsSync(p));
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startNatsServer(): Promise<NatsServer> {
  const binary = natsServerBinary();
  if (!binary) throw new Error("nats-server not found (apt-get install nats-server, or set NATS_SERVER_BIN)");
  const port = await freePort();
  const storeDir = mkdtempSync(path.join(os.tmpdir(), "rf-drill-nats-"));
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const start = async () => {
    const proc = spawn(binary, ["-js", "-a", "127.0.0.1", "-p", String(port), "-sd", storeDir], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    proc.stderr?.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-2000);
    });
    child = proc;
    exited = new Promise((resolve) => proc.once("exit", () => resolve()));
    await waitFor(async () => {
      if (proc.exitCode !== null) throw new Error(`nats-server exited: ${stderr}`);
      return isPortOpen(port, "127.0.0.1", 200);
    }, 10_000, "nats-server did not listen");
  };
  const stop = async () => {
    if (!child || child.exitCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child?.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
  };

  await start();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    async restart(downMs = 1_000) {
      await stop();
      await new Promise((r) => setTimeout(r, downMs));
      await start();
    },
    async close() {
      await stop();
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}
