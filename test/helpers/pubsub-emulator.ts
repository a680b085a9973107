// Google's own Cloud Pub/Sub emulator (gcloud CLI, Java 17) for tests that need a real Pub/Sub:
// the Google emulator publishing notifications, and the product's pull receiver.
//
// How to use it (written for helper 12b and whoever comes next):
//   import { usePubsubEmulator } from "../test/helpers/pubsub-emulator.js";   // path from your test
//   describe("pull receiver", function () {
//     const ps = usePubsubEmulator();     // starts one emulator for the suite, stops it after;
//                                         // skips the suite with a printed reason when gcloud/java are absent
//     it("...", async () => {
//       const pubsub = ps.emu.client();   // a PubSub client aimed at it (no env var touched); for
//                                         // your own: new PubSub({ projectId, apiEndpoint: host,
//                                         //   emulatorMode: true, universeDomain: "googleapis.com" })
//       const [topic] = await pubsub.createTopic("reviews");
//       // give `ps.emu.host` ("127.0.0.1:<port>") to whatever needs PUBSUB_EMULATOR_HOST, e.g.
//       // startGoogleEmulator({ pubsubEmulatorHost: ps.emu.host }) or a child process's env.
//     });
//   });
// Outside mocha: `const emu = await startPubsubEmulator(); ...; await emu.stop();`.
// It never sets process.env.PUBSUB_EMULATOR_HOST: mocha runs every suite in one process, and a
// leaked variable would turn Pub/Sub on for suites that did not ask for it.
// The emulator takes a few seconds to start (JVM); start one per suite, not per test. Topics and
// subscriptions live in memory and vanish with it; ps.emu.projectId is a fresh project per start.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, realpathSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { PubSub } from "@google-cloud/pubsub";

const START_TIMEOUT_MS = 60_000;

export interface PubsubEmulator {
  /** "127.0.0.1:<port>", the value PUBSUB_EMULATOR_HOST takes. */
  readonly host: string;
  /** A project id no other suite uses. */
  readonly projectId: string;
  /** A PubSub client aimed at this emulator (cached; closed by stop()). */
  client(): PubSub;
  stop(): Promise<void>;
}

function onPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (dir !== "" && existsSync(path.join(dir, command))) return path.join(dir, command);
  }
  return undefined;
}

/** Why the emulator cannot run here, or undefined when it can. */
export function pubsubEmulatorMissing(): string | undefined {
  const gcloud = onPath("gcloud");
  if (!gcloud) return "gcloud CLI not found on PATH";
  if (!onPath("java")) return "java (17+) not found on PATH";
  // gcloud lives in <sdk>/bin; the emulator is the optional component <sdk>/platform/pubsub-emulator.
  const sdk = path.dirname(path.dirname(realpathSync(gcloud)));
  if (existsSync(path.join(sdk, "platform")) && !existsSync(path.join(sdk, "platform", "pubsub-emulator"))) {
    return "the gcloud component pubsub-emulator is not installed (gcloud components install pubsub-emulator)";
  }
  return undefined;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * gcloud is a python wrapper around a shell script around java: signal the whole process group,
 * even when gcloud itself has exited (java may outlive it).
 */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

export async function startPubsubEmulator(): Promise<PubsubEmulator> {
  const missing = pubsubEmulatorMissing();
  if (missing) throw new Error(`Pub/Sub emulator unavailable: ${missing}`);
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const child = spawn("gcloud", ["beta", "emulators", "pubsub", "start", `--host-port=${host}`, "--quiet"], {
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  // A test run that dies must not leave a JVM behind.
  const onExit = () => killGroup(child, "SIGKILL");
  process.once("exit", onExit);
  const output: string[] = [];
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));

  await new Promise<void>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => fail(new Error(`Pub/Sub emulator did not start within ${START_TIMEOUT_MS} ms:\n${output.join("")}`)), START_TIMEOUT_MS);
    const watch = (chunk: Buffer) => {
      output.push(chunk.toString());
      if (output.length > 200) output.shift();
      if (!settled && /Server started, listening on/.test(output.join(""))) {
        settled = true;
        clearTimeout(timer);
        resolve();
      }
    };
    function fail(e: Error) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      killGroup(child, "SIGKILL");
      process.off("exit", onExit);
      reject(e);
    }
    child.stdout!.on("data", watch);
    child.stderr!.on("data", watch);
    child.once("exit", (code) => fail(new Error(`Pub/Sub emulator exited (${code}) before it was ready:\n${output.join("")}`)));
  });

  const projectId = `test-${randomBytes(4).toString("hex")}`;
  let client: PubSub | undefined;
  let stopping: Promise<void> | undefined;
  return {
    host,
    projectId,
    // universeDomain given, so google-auth-library does not probe the GCE metadata server (seconds
    // of timeouts and a MetadataLookupWarning off GCP). Build your own client the same way.
    client: () => (client ??= new PubSub({ projectId, apiEndpoint: host, emulatorMode: true, universeDomain: "googleapis.com" })),
    stop() {
      stopping ??= (async () => {
        await client?.close().catch(() => undefined);
        killGroup(child, "SIGTERM");
        const timer = setTimeout(() => killGroup(child, "SIGKILL"), 5_000);
        await exited;
        clearTimeout(timer);
        process.off("exit", onExit);
      })();
      return stopping;
    },
  };
}

/**
 * One emulator for the surrounding `describe` (read `.emu` inside tests). Where gcloud or java is
 * missing the suite is skipped with the reason printed, never failed.
 */
export function usePubsubEmulator(): { emu: PubsubEmulator } {
  const holder = {} as { emu: PubsubEmulator };
  before(async function () {
    const missing = pubsubEmulatorMissing();
    if (missing) {
      process.stdout.write(`      (skipped: Google's Pub/Sub emulator is not available here: ${missing})\n`);
      this.skip();
    }
    this.timeout(START_TIMEOUT_MS + 10_000);
    holder.emu = await startPubsubEmulator();
  });
  after(async () => {
    await holder.emu?.stop();
  });
  return holder;
}
