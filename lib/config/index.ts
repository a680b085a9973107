export { ConfigError, loadConfig, requireKeyring, type Config, type GoogleEndpoints, HTTP_TIMEOUT_DEFAULTS, type HttpTimeouts, type LogLevel } from "./config.js";
