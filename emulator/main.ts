// `npm run emulator`: the Google emulator as its own process on EMULATOR_PORT (8090). The only
// file here with side effects: read env, listen, log one JSON line, close cleanly on signals.
import { EmulatorEnvError, loadEmulatorEnv } from "./env.js";
import { startGoogleEmulator } from "./server.js";
import { whenLauncherGone } from "../lib/process/launcher.js";

function log(fields: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), service: "google-emulator", ...fields })}\n`);
}

async function main(): Promise<void> {
  let env;
  try {
    env = loadEmulatorEnv();
  } catch (e) {
    if (e instanceof EmulatorEnvError) {
      process.stderr.write(`google emulator: bad configuration: ${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
  const emulator = await startGoogleEmulator(env);
  const { totalReviews, accounts } = emulator.controls.data();
  log({
    level: "info",
    msg: "google emulator listening",
    url: emulator.url,
    port: emulator.port,
    seed: env.seed,
    accounts: accounts.length,
    totalReviews,
    clients: env.clients.map((c) => c.id),
    autoApprove: env.autoApprove,
    pushEndpoint: env.pushEndpoint ?? null,
    pubsubEmulatorHost: env.pubsubEmulatorHost ?? null,
  });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log({ level: "info", msg: "google emulator stopping", signal });
    emulator.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGINT", () => stop("SIGINT"));
  process.once("SIGTERM", () => stop("SIGTERM"));
  whenLauncherGone(() => stop("launcher gone"));
}

main().catch((e: unknown) => {
  process.stderr.write(`google emulator failed to start: ${(e as Error)?.message ?? String(e)}\n`);
  process.exit(1);
});
