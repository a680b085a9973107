import { createLogger, type Logger } from "../../lib/log/index.js";

/** A logger whose output a test can read back, to prove what did (and did not) get logged. */
export function captureLogs(level: "debug" | "info" = "debug"): { logger: Logger; text(): string; lines(): Record<string, unknown>[] } {
  const chunks: string[] = [];
  const logger = createLogger({ level, stream: { write: (chunk: string) => (chunks.push(chunk), true) } });
  return {
    logger,
    text: () => chunks.join(""),
    lines: () =>
      chunks
        .join("")
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}
