import { ConfigError, loadConfig, requireKeyring, type Config } from "../config/index.js";
import { createLogger, redactString, registerSecret, type Logger } from "../log/index.js";
import { whenLauncherGone } from "./launcher.js";

export interface ServiceProcess {
  /** Stops accepting work, lets in-flight work finish, closes connections. */
  stop(): Promise<void>;
}

export interface RunServiceOptions {
  /** Services that encrypt or decrypt need TOKEN_ENCRYPTION_KEY: fail at start-up, not on first use. */
  needsEncryptionKey?: boolean;
  /** How long a stop may take before the process exits anyway (default STOP_DEADLINE_MS). */
  stopDeadlineMs?: number;
}

/**
 * A stop that has not finished by then ends with exit 1 and a log line. A stop waits for
 * in-flight work, and in-flight work can wait on a server that is gone: with NATS down, a
 * fetcher's task waits out its publish's 10 s acknowledgement timeout, and its stop took 13.5 s.
 * Work cut short here is what a kill -9 leaves, which every service survives (a task's message
 * is redelivered, a page's writes are one transaction, unpublished versions are swept out), and
 * under docker's 10 s stop timeout the process still ends by itself, saying so.
 */
export const STOP_DEADLINE_MS = 8_000;

/**
 * The shape of every service's main.ts: parse the config (a bad value is one line naming the
 * variable, exit 1), start, then stop cleanly on SIGTERM/SIGINT (exit 0). A start-up failure is
 * one redacted line and exit 1: no stack trace, no secret.
 */
export function runService(
  name: string,
  start: (config: Readonly<Config>, logger: Logger) => Promise<ServiceProcess>,
  options: RunServiceOptions = {},
): void {
  let config: Readonly<Config>;
  try {
    config = loadConfig();
    if (options.needsEncryptionKey) requireKeyring(config.secrets);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${name}: bad configuration: ${err.message}\n`);
    process.exit(1);
  }
  registerSecret(config.secrets.adminApiKey);
  registerSecret(config.secrets.serviceApiKey);
  const logger = createLogger({ level: config.log.level, bindings: { service: name } });

  start(config, logger).then(
    (service) => {
      let stopping = false;
      const shutdown = (signal: string) => {
        if (stopping) return;
        stopping = true;
        logger.info("shutting down", { signal });
        const deadlineMs = options.stopDeadlineMs ?? STOP_DEADLINE_MS;
        setTimeout(() => {
          logger.error("stop did not finish in time: exiting with work in flight (it is redone)", { deadline_ms: deadlineMs });
          process.exit(1);
        }, deadlineMs);
        service.stop().then(
          () => process.exit(0),
          (err: unknown) => {
            logger.error("shutdown failed", { err });
            process.exit(1);
          },
        );
      };
      process.once("SIGTERM", () => shutdown("SIGTERM"));
      process.once("SIGINT", () => shutdown("SIGINT"));
      whenLauncherGone(() => shutdown("launcher gone"));
    },
    (err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      process.stderr.write(`${name}: failed to start: ${redactString(message)}\n`);
      process.exit(1);
    },
  );
}
