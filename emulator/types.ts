// Public types of the Google emulator. Other engineers code against these names: change them
// only together with DESIGN.md and the issue note.

/** Named data sizes; see seed-spec.ts for what each one means. */
export type SeedName = "tiny" | "demo" | "large";

/** Shape of the seeded data: every number is drawn from a PRNG seeded with `seed`. */
export interface SeedSpec {
  accounts: number;
  locationsPerAccount: number;
  reviewsPerLocation: [min: number, max: number];
  seed?: number;
}

export interface EmulatorClient {
  id: string;
  secret: string;
}

export interface EmulatorOptions {
  /** 0 = ephemeral (tests); main.ts defaults to 8090. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default "tiny". */
  seed?: SeedName | SeedSpec;
  /** Known OAuth clients; default the demo client. */
  clients?: EmulatorClient[];
  /** Authorize answers with an immediate redirect carrying a code (default false: a consent page). */
  autoApprove?: boolean;
  /** Lifetime of issued access tokens; default 3599 (Google's usual value). */
  accessTokenTtlSeconds?: number;
  /** Per project (= OAuth client id) per API; default 300; 0 = every API call answers 429. */
  quotaPerMinute?: number;
  /**
   * Clock in epoch milliseconds, default Date.now: token lifetimes, quota windows and the times
   * of edits and additions. Seeded review times do not read it (they sit before a fixed anchor,
   * seed-generator.ts), so the same seed serves byte-identical reviews on every start.
   */
  now?: () => number;
  /**
   * Cloud Pub/Sub emulator ("host:port", what PUBSUB_EMULATOR_HOST holds): when set, review
   * notifications are published to each account's topic there, and a PATCH naming a topic that
   * does not exist there is INVALID_PUBSUB_TOPIC. Default: none (Pub/Sub off). The variable
   * itself is read only by main.ts (env.ts), so an in-process emulator never picks it up by accident.
   */
  pubsubEmulatorHost?: string;
  /** URL review notifications are POSTed to as signed push requests; default none (push off). */
  pushEndpoint?: string;
  /** `aud` of the push JWT; default the push endpoint URL, as Google does. */
  pushAudience?: string;
  /** `email` of the push JWT; default pubsub-push@reviewflow-emulator.iam.gserviceaccount.com. */
  pushServiceAccount?: string;
}

/** Endpoint names used by stats and faults. */
export type EndpointName =
  | "authorize"
  | "token"
  | "revoke"
  | "tokeninfo"
  | "accounts.list"
  | "locations.list"
  | "reviews.list"
  | "reviews.get"
  | "reviews.batchGet"
  | "notificationSetting.get"
  | "notificationSetting.update";

export const API_ENDPOINTS = [
  "accounts.list",
  "locations.list",
  "reviews.list",
  "reviews.get",
  "reviews.batchGet",
  "notificationSetting.get",
  "notificationSetting.update",
] as const;
export type ApiEndpointName = (typeof API_ENDPOINTS)[number];

/** Quota buckets, one per Google API host. */
export type ApiName = "accountmanagement" | "businessinformation" | "mybusiness" | "notifications";
export const API_NAMES: readonly ApiName[] = ["accountmanagement", "businessinformation", "mybusiness", "notifications"];

export interface GrantCounts {
  authorization_code: number;
  refresh_token: number;
}

export interface EmulatorStats {
  requests: Record<string, number>;
  byProject: Record<string, Record<string, number>>;
  quotaRejections: Record<string, number>;
  /** Highest number of API requests seen in any sliding 60-s window, per project and API. */
  maxPerWindow: Record<string, Record<string, number>>;
  grants: Record<string, GrantCounts>;
  revocations: number;
  faultsInjected: number;
}

export type FaultKind = "error" | "rate_limit" | "latency" | "forbidden";

export interface FaultSpec {
  /** An API endpoint name or "token"; default all API endpoints. */
  endpoint?: string;
  kind: FaultKind;
  /** For "error": 500 (INTERNAL) or 503 (UNAVAILABLE); default 503. */
  status?: number;
  /** Probability 0..1 that a matching request is hit; default 1. */
  rate?: number;
  /** Stop after this many injections. */
  count?: number;
  /** For "latency". */
  latencyMs?: number;
  /** For "forbidden": "accounts/A/locations/L" or "locations/L". */
  locations?: string[];
}

export interface FaultInfo extends FaultSpec {
  id: string;
  injected: number;
}

export interface QuotaSetting {
  perMinute: number;
  project?: string;
  api?: string;
}

export type StarRating = "ONE" | "TWO" | "THREE" | "FOUR" | "FIVE";

export interface ReviewEdit {
  name: string;
  /** null removes the comment (a rating-only review). */
  comment?: string | null;
  starRating?: StarRating;
  /** A string sets the owner's reply, null removes it. */
  reply?: string | null;
  /**
   * Change the content but leave the review's `updateTime` (and so its place in `updateTime desc`)
   * as it was: a change Google makes without moving the time. A new reply text still gets its own
   * reply `updateTime`.
   */
  keepUpdateTime?: boolean;
}

export interface ReviewAdd {
  /** "accounts/A/locations/L". */
  location: string;
  /**
   * The `{r}` of the new review's name; default a fresh random id. Naming a deleted review
   * brings it back under its old name; naming a live one is a 409.
   */
  reviewId?: string;
  comment?: string;
  starRating?: StarRating;
  reply?: string;
  reviewer?: { displayName?: string; isAnonymous?: boolean };
}

/** A v4 Review as it travels on the wire. */
export interface ReviewJson {
  name: string;
  reviewId: string;
  reviewer: { profilePhotoUrl?: string; displayName?: string; isAnonymous?: boolean };
  starRating: StarRating;
  comment?: string;
  createTime: string;
  updateTime: string;
  reviewReply?: { comment: string; updateTime: string };
}

export interface DataSummary {
  accounts: {
    name: string;
    accountName: string;
    type: string;
    locations: { name: string; parent: string; title: string; reviewCount: number }[];
  }[];
  totalReviews: number;
}

export interface IssuedTokens {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  scope: string;
  token_type: "Bearer";
}

/** My Business Notifications v1 NotificationSetting, as it travels on the wire. */
export interface NotificationSettingJson {
  name: string;
  pubsubTopic?: string;
  notificationTypes?: string[];
}

/** What POST /_emulator/notifications takes; every field optional, snake_case or camelCase. */
export interface NotificationControlInput {
  /** URL, or null / "" to turn push off. */
  push_endpoint?: string | null;
  /** null / "" goes back to the default (the endpoint URL). */
  push_audience?: string | null;
  push_service_account?: string | null;
  /** Share 0..1 of notifications never sent (decided by the seeded PRNG). */
  drop_ratio?: number;
  /** Share 0..1 of notifications sent twice (push: the same messageId twice). */
  duplicate_ratio?: number;
  /** Wait this long before sending each notification. */
  delay_ms?: number;
  /** Topics a PATCH refuses with PUBLISH_PERMISSIONS_MISSING_FOR_PUBSUB_TOPIC. */
  deny_publish_topics?: string[];
  /** Zero the counters. */
  reset_counters?: boolean;
}

export interface NotificationCounters {
  /** Notifications sent out (after drops; a duplicate counts once here and once in duplicated). */
  published: number;
  /** Push requests the endpoint acknowledged (2xx), duplicates included. */
  pushed: number;
  /** Push attempts that failed (non-2xx, network error, timeout); each is retried until attempts run out. */
  push_failures: number;
  /** Push messages given up on after the last attempt. */
  push_abandoned: number;
  /** Messages published to the Cloud Pub/Sub emulator, duplicates included. */
  pubsub_published: number;
  pubsub_failures: number;
  dropped: number;
  duplicated: number;
  delayed: number;
  /** Deliveries (push with retries, or Pub/Sub publishes) still under way: 0 when all is settled. */
  in_flight: number;
}

export interface NotificationState {
  push_endpoint: string | null;
  /** The audience in use (the endpoint URL unless set). */
  push_audience: string | null;
  push_service_account: string;
  pubsub_emulator_host: string | null;
  drop_ratio: number;
  duplicate_ratio: number;
  delay_ms: number;
  deny_publish_topics: string[];
  /** Every account's setting that has been written, by account name. */
  settings: NotificationSettingJson[];
  counters: NotificationCounters;
}

export interface EmulatorConfig {
  accessTokenTtlSeconds: number;
  autoApprove: boolean;
}

/** The in-process twin of the HTTP control API under /_emulator/. Throws ControlError on bad input. */
export interface EmulatorControls {
  stats(): EmulatorStats;
  resetStats(): void;
  listFaults(): FaultInfo[];
  addFault(spec: FaultSpec): { id: string };
  removeFault(id: string): boolean;
  clearFaults(): void;
  setQuota(setting: QuotaSetting): void;
  /** Forget the requests counted against quotas so far (limits stay). */
  resetQuotaUsage(): void;
  editReview(edit: ReviewEdit): ReviewJson;
  addReview(add: ReviewAdd): ReviewJson;
  deleteReview(input: { name: string }): void;
  expireTokens(input: { access_token?: string; client_id?: string }): { expired: number };
  revokeGrants(input: { client_id?: string; refresh_token?: string }): { revoked: number };
  issueTokens(input: { client_id: string; scope?: string }): IssuedTokens;
  configure(input: Partial<EmulatorConfig>): EmulatorConfig;
  data(): DataSummary;
  /** Push/Pub/Sub settings, account settings and counters (GET /_emulator/notifications). */
  notifications(): NotificationState;
  /** POST /_emulator/notifications; answers the new state. */
  configureNotifications(input: NotificationControlInput): NotificationState;
}

export interface GoogleEmulator {
  /** Origin without a trailing slash, e.g. http://127.0.0.1:8090. */
  url: string;
  port: number;
  controls: EmulatorControls;
  close(): Promise<void>;
}

/** Bad input to a control operation; `status` is the HTTP status the control API answers. */
export class ControlError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "ControlError";
  }
}
