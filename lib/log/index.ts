export { createLogger, silentLogger, type LogFields, type Logger, type LoggerOptions } from "./logger.js";
export { redact, redactString, registerSecret, REDACTED } from "./redact.js";
