// A service run as a child process (`node --import tsx <main.ts>`), the way a person or a
// supervisor would run it: its JSON log lines go to a file (and optionally to the console with a
// prefix), its last lines are kept to explain a failure, and it is stopped with SIGTERM first.
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, createWriteStream, fchmodSync, mkdirSync, openSync, type WriteStream } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

/** The repository root (scripts/support/ → ../..). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/**
 * Node options a service runs with wherever it is started (npm start and the benches through
 * here; package.json's `fetcher` script and docker-compose.yml spell the same). The fetcher's
 * young generation gets 64 MB semi-spaces instead of V8's 16 MB: it allocates per review (Google's
 * JSON, protobuf, SQL parameters, events) with many pages in flight, and fewer scavenges copy
 * less of what is still alive (the 600-location bench job: fetcher CPU per request −8 % in two
 * sets of three back-to-back pairs, no difference in a third).
 */
export const SERVICE_NODE_OPTIONS: Readonly<Record<string, readonly string[]>> = {
  "services/fetcher/main.ts": ["--max-semi-space-size=64"],
};

export interface ChildServiceOptions {
  /** A short name: log prefix and log file name. */
  name: string;
  /** The entry file, relative to the repository root, e.g. `services/token/main.ts`. */
  entry: string;
  /** The whole environment of the child (callers merge process.env themselves when they want it). */
  env: NodeJS.ProcessEnv;
  /** Append the child's output to this file. */
  logFile?: string;
  /** Called with every output line (already prefixed by nothing: the caller decides). */
  onLine?: (line: string, stream: "stdout" | "stderr") => void;
  /** Extra node options before the entry (e.g. `--cpu-prof`: what a profiling run passes). */
  nodeArgs?: string[];
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ChildService {
  readonly name: string;
  readonly pid: number;
  /** Resolves when the process has exited, however it ended. */
  readonly exited: Promise<ExitInfo>;
  /** Whether the process is still running. */
  running(): boolean;
  /** The last output lines, newest last: what to show when the service fails. */
  recentLines(): string[];
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<ExitInfo>;
  /** SIGKILL now (the kill -9 drill); resolves when the process is gone. */
  kill(): Promise<ExitInfo>;
}

const KEEP_LINES = 40;

/**
 * Appends to a log only its owner can read: a file 0600 in a directory 0700. Log lines are
 * redacted, yet they name clients, tenants and requests. The modes are set on existing ones
 * too, since `mode` applies only when a file or directory is created (and the umask trims it).
 */
function openPrivateLog(file: string): WriteStream {
  const dir = path.dirname(file);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const fd = openSync(file, "a", 0o600);
  fchmodSync(fd, 0o600);
  return createWriteStream(file, { fd });
}

export function startChildService(options: ChildServiceOptions): ChildService {
  let log: WriteStream | undefined;
  if (options.logFile) log = openPrivateLog(options.logFile);
  // its own process group: a Ctrl-C in the terminal reaches only the launcher, which then stops
  // the services in order instead of all of them racing at once
  const nodeArgs = [...(SERVICE_NODE_OPTIONS[options.entry] ?? []), ...(options.nodeArgs ?? [])];
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, "--import", "tsx", options.entry], {
    cwd: REPO_ROOT,
    // the service stops by itself if this process dies without stopping it (runService)
    env: { ...options.env, REVIEWFLOW_LAUNCHER_PID: String(process.pid) },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const recent: string[] = [];
  const pipe = (stream: NodeJS.ReadableStream | null, kind: "stdout" | "stderr") => {
    if (!stream) return;
    const lines = createInterface({ input: stream, crlfDelay: Infinity });
    lines.on("line", (line) => {
      recent.push(line);
      if (recent.length > KEEP_LINES) recent.shift();
      log?.write(`${line}\n`);
      options.onLine?.(line, kind);
    });
  };
  pipe(child.stdout, "stdout");
  pipe(child.stderr, "stderr");

  let alive = child.pid !== undefined;
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once("error", (err) => {
      recent.push(`failed to spawn: ${err.message}`);
      alive = false;
      resolve({ code: 127, signal: null });
    });
    child.once("exit", (code, signal) => {
      alive = false;
      // let the last buffered output reach the file before anyone reads it
      setImmediate(() => {
        if (log) log.end(() => resolve({ code, signal }));
        else resolve({ code, signal });
      });
    });
  });

  const signal = (sig: NodeJS.Signals) => {
    if (!alive || child.pid === undefined) return;
    try {
      process.kill(child.pid, sig);
    } catch {
      // already gone
    }
  };

  return {
    name: options.name,
    pid: child.pid ?? -1,
    exited,
    running: () => alive,
    recentLines: () => [...recent],
    async stop(graceMs = 10_000) {
      if (!alive) return exited;
      signal("SIGTERM");
      const timer = setTimeout(() => signal("SIGKILL"), graceMs);
      const info = await exited;
      clearTimeout(timer);
      return info;
    },
    async kill() {
      signal("SIGKILL");
      return exited;
    },
  };
}

/** Describes how a process ended, for messages. */
export function describeExit(info: ExitInfo): string {
  return info.signal ? `killed by ${info.signal}` : `exited with code ${info.code}`;
}
