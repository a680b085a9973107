export { ConfigError, loadConfig, requireKeyring, type Config, type GoogleEndpoints, type LogLevel } from "./config.js";
