// startGoogleEmulator: builds one emulator (context, controls, router) and listens. Port 0
// gives an ephemeral port for tests; close() ends keep-alive connections so tests finish fast.
import { setMaxListeners } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createContext } from "./context.js";
import { createControls } from "./controls.js";
import { createRouter } from "./router.js";
import type { EmulatorOptions, GoogleEmulator } from "./types.js";

export async function startGoogleEmulator(opts: EmulatorOptions = {}): Promise<GoogleEmulator> {
  const shutdown = new AbortController();
  // every delayed response (latency faults) waits on this one signal: hundreds may at once
  setMaxListeners(0, shutdown.signal);
  const ctx = createContext(opts, shutdown.signal);
  const controls = createControls(ctx);
  const handle = createRouter(ctx, controls);
  const server = createServer((req, res) => {
    void handle(req, res);
  });
  const host = opts.host ?? "127.0.0.1";

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(":") ? `[${host}]` : host === "0.0.0.0" ? "127.0.0.1" : host;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    controls,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        shutdown.abort();
        const closed = new Promise<void>((done, fail) => server.close((err) => (err ? fail(err) : done())));
        closed.then(() => ctx.notifications.close()).then(resolve, reject);
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
