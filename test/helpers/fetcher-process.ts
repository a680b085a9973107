import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import { SERVICE_NODE_OPTIONS } from "../../scripts/support/child-service.js";

/** A fetcher as its own process (`node --max-semi-space-size=64 --import tsx services/fetcher/main.ts`), the way it runs for real. */
export class FetcherProcess {
  private output: string[] = [];
  private child: ChildProcess;
  readonly exited: Promise<number | null>;

  constructor(env: Record<string, string>) {
    const entry = "services/fetcher/main.ts";
    this.child = spawn(process.execPath, [...SERVICE_NODE_OPTIONS[entry]!, "--import", "tsx", entry], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const keep = (chunk: Buffer) => {
      this.output.push(chunk.toString());
      if (this.output.length > 200) this.output.shift();
    };
    this.child.stdout!.on("data", keep);
    this.child.stderr!.on("data", keep);
    this.exited = new Promise((resolve) => this.child.once("exit", (code) => resolve(code)));
  }

  /**
   * Resolves once the gRPC port answers health checks. The deadline is generous: a fresh process
   * compiles the fetcher's whole module graph through tsx, which on a loaded 2-core box (the suite
   * runs files in parallel) has taken over 30 s.
   */
  async ready(port: number): Promise<void> {
    const deadline = Date.now() + 75_000;
    for (;;) {
      const ok = await fetch(`http://127.0.0.1:${port}/grpc.health.v1.Health/Check`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      })
        .then((r) => r.ok)
        .catch(() => false);
      if (ok) return;
      if (this.child.exitCode !== null || Date.now() > deadline) throw new Error(`fetcher did not start:\n${this.output.join("")}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  get log(): string {
    return this.output.join("");
  }
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
