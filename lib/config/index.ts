export {
  ConfigError, deploymentNamespace, loadConfig, QUOTA_LANES, requireKeyring, HTTP_TIMEOUT_DEFAULTS,
  type Config, type EmulatorConfig, type FetcherConfig, type GatewayConfig, type GoogleConfig, type GoogleEndpoints, type HttpConfig, type HttpTimeouts,
  type LogConfig, type LogLevel, type NatsConfig, type NotificationsConfig, type PostgresConfig, type QuotaLane, type SecretsConfig, type SyncDefaults, type TokenConfig,
} from "./config.js";
