// The Google emulator's public surface: start one in a test with
// `startGoogleEmulator({ port: 0, autoApprove: true })`, read `url`, drive `controls`.
export { startGoogleEmulator } from "./server.js";
export { DEFAULT_CLIENTS, DEFAULT_QUOTA_PER_MINUTE, DEFAULT_TOKEN_TTL_SECONDS } from "./context.js";
export { BUSINESS_SCOPE } from "./oauth-store.js";
export { NAMED_SEEDS } from "./seed-spec.js";
export { DEFAULT_PUSH_SERVICE_ACCOUNT, PUSH_BACKOFF_FIRST_MS, PUSH_BACKOFF_MAX_MS, PUSH_MAX_ATTEMPTS } from "./notification-delivery.js";
export { PUSH_ISSUER, PUSH_SUBJECT } from "./push-signer.js";
export {
  API_ENDPOINTS,
  API_NAMES,
  ControlError,
  type ApiEndpointName,
  type ApiName,
  type DataSummary,
  type EmulatorClient,
  type EmulatorConfig,
  type EmulatorControls,
  type EmulatorOptions,
  type EmulatorStats,
  type EndpointName,
  type FaultInfo,
  type FaultKind,
  type FaultSpec,
  type GoogleEmulator,
  type GrantCounts,
  type IssuedTokens,
  type NotificationControlInput,
  type NotificationCounters,
  type NotificationSettingJson,
  type NotificationState,
  type QuotaSetting,
  type ReviewAdd,
  type ReviewEdit,
  type ReviewJson,
  type SeedName,
  type SeedSpec,
  type StarRating,
} from "./types.js";
