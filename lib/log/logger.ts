import { writeSync } from "node:fs";
import type { Writable } from "node:stream";
import type { LogLevel } from "../config/config.js";
import { redact, redactString } from "./redact.js";

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Record<string, unknown>;

/** A structured JSON logger: one object per line, every field passed through redaction. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `bindings` (e.g. service, job_id, request_id) to every line. */
  child(bindings: LogFields): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Where lines go; stdout by default. Tests pass a stream to capture output. */
  stream?: Pick<Writable, "write">;
  bindings?: LogFields;
}

/** Flush at once past this many buffered bytes (a burst must not hold megabytes). */
const FLUSH_BYTES = 64 * 1024;

/**
 * stdout, one write per turn of the event loop instead of one per line. A write to a pipe or
 * file is a synchronous system call in Node; with one access-log line per request it was the
 * largest single cost of a proxied call in the gateway's and TokenService's profiles. Lines are
 * joined and written once the current turn ends (setImmediate), at once past FLUSH_BYTES, and
 * synchronously at exit, so a stopping or failing process still leaves every line.
 */
function batchedStdout(): Pick<Writable, "write"> {
  let pending: string[] = [];
  let bytes = 0;
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (pending.length === 0) return;
    const text = pending.join("");
    pending = [];
    bytes = 0;
    process.stdout.write(text);
  };
  process.once("exit", () => {
    if (pending.length === 0) return;
    const text = pending.join("");
    pending = [];
    try {
      writeSync(1, text);
    } catch {
      // stdout already gone: nothing left to tell
    }
  });
  return {
    write(line: string) {
      pending.push(line);
      bytes += line.length;
      if (bytes >= FLUSH_BYTES) flush();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(flush).unref();
      }
      return true;
    },
  } as Pick<Writable, "write">;
}

let sharedStdout: Pick<Writable, "write"> | undefined;

export function createLogger(options: LoggerOptions = {}): Logger {
  const threshold = LEVELS[options.level ?? "info"];
  const stream = options.stream ?? (sharedStdout ??= batchedStdout());
  const make = (bindings: LogFields): Logger => {
    // bindings are fixed for the life of a logger: redact them once, not on every line
    const safeBindings = redact(bindings) as LogFields;
    const write = (level: LogLevel, msg: string, fields?: LogFields) => {
      if (LEVELS[level] < threshold) return;
      const line = {
        time: new Date().toISOString(),
        level,
        msg: redactString(msg),
        ...safeBindings,
        ...(fields ? (redact(fields) as LogFields) : {}),
      };
      stream.write(`${JSON.stringify(line)}\n`);
    };
    return {
      debug: (msg, fields) => write("debug", msg, fields),
      info: (msg, fields) => write("info", msg, fields),
      warn: (msg, fields) => write("warn", msg, fields),
      error: (msg, fields) => write("error", msg, fields),
      child: (more) => make({ ...bindings, ...more }),
    };
  };
  return make(options.bindings ?? {});
}

/** A logger that drops everything: for tests that do not look at logs. */
export const silentLogger: Logger = createLogger({ stream: { write: () => true } });
