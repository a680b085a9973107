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

export function createLogger(options: LoggerOptions = {}): Logger {
  const threshold = LEVELS[options.level ?? "info"];
  const stream = options.stream ?? process.stdout;
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
