// Google's own Cloud Pub/Sub emulator (gcloud CLI, Java 17) for tests that need a real Pub/Sub:
// the Google emulator publishing notifications, and the product's pull receiver.
//
// How to use it (written for helper 12b and whoever comes next):
//   import { usePubsubEmulator } from "../test/helpers/pubsub-emulator.js";   // path from your test
//   describe("pull receiver", function () {
//     const ps = usePubsubEmulator();     // a fresh project on the emulator all suites share (started
//                                         // on first use, killed at process exit); skips the suite with
//                                         // a printed reason when gcloud/java/the component are absent
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
// The emulator takes 5-20 s to start (JVM), hence one per test process. Topics and subscriptions
// live in memory; ps.emu.projectId is a fresh project per suite, so suites never see each other's.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
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
 * gcloud is a python wrapper that starts the emulator's launcher script in a session of its own,
 * which starts java. Signal gcloud's process group and the launcher's, so java goes too even when
 * gcloud cannot pass the signal on (SIGKILL) or has already exited.
 */
function killTree(child: ChildProcess, launchers: readonly number[], signal: NodeJS.Signals): void {
  for (const pid of [child.pid, ...launchers]) {
    if (pid === undefined) continue;
    try {
      process.kill(-pid, signal);
    } catch {
      // already gone
    }
  }
}

/** The launcher processes gcloud started (their pids are their session and group ids). */
function launchersOf(pid: number | undefined): number[] {
  if (pid === undefined) return [];
  const r = spawnSync("ps", ["-o", "pid=", "--ppid", String(pid)], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.split(/\s+/).filter(Boolean).map(Number) : [];
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
  let launchers: number[] = [];
  const onExit = () => killTree(child, launchers, "SIGKILL");
  process.once("exit", onExit);
  const output: string[] = [];
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));

  await new Promise<void>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(
      () => fail(new Error(`Pub/Sub emulator did not start within ${START_TIMEOUT_MS} ms:\n${output.join("")}`)),
      START_TIMEOUT_MS,
    );
    const watch = (chunk: Buffer) => {
      output.push(chunk.toString());
      if (output.length > 200) output.shift();
      if (!settled && /Server started, listening on/.test(output.join(""))) {
        settled = true;
        clearTimeout(timer);
        launchers = launchersOf(child.pid);
        resolve();
      }
    };
    function fail(e: Error) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      killTree(child, launchersOf(child.pid), "SIGKILL");
      process.off("exit", onExit);
      reject(e);
    }
    child.stdout!.on("data", watch);
    child.stderr!.on("data", watch);
    child.once("exit", (code) => fail(new Error(`Pub/Sub emulator exited (${code}) before it was ready:\n${output.join("")}`)));
  });
  // Nothing of the emulator holds the test process open; the exit hook above ends it.
  child.unref();
  for (const stream of [child.stdout, child.stderr]) (stream as unknown as { unref?: () => void } | null)?.unref?.();

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
        killTree(child, launchers, "SIGTERM");
        const timer = setTimeout(() => killTree(child, launchers, "SIGKILL"), 5_000);
        await exited;
        clearTimeout(timer);
        process.off("exit", onExit);
      })();
      return stopping;
    },
  };
}

/** The one emulator the suites of this test process share; killed with the process. */
let shared: Promise<PubsubEmulator> | undefined;

/** A suite's view of a running emulator: a project and a client of its own. */
function view(base: PubsubEmulator): PubsubEmulator {
  const projectId = `test-${randomBytes(4).toString("hex")}`;
  let client: PubSub | undefined;
  return {
    host: base.host,
    projectId,
    client: () => (client ??= new PubSub({ projectId, apiEndpoint: base.host, emulatorMode: true, universeDomain: "googleapis.com" })),
    async stop() {
      await client?.close().catch(() => undefined);
    },
  };
}

/**
 * The Pub/Sub emulator for the surrounding `describe` (read `.emu` inside tests): its own
 * project and client on an emulator that every suite of this test process shares, because a JVM
 * start costs 5-20 s on a busy box. The JVM is killed when the test process exits. Where gcloud,
 * java or the component is missing the suite is skipped with the reason printed, never failed.
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
    shared ??= startPubsubEmulator();
    holder.emu = view(await shared);
  });
  after(async () => {
    await holder.emu?.stop();
  });
  return holder;
}
