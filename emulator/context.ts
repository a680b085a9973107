// Everything one emulator instance holds, built once from its options and handed to every
// handler: no module-level state, so tests can run many emulators side by side.
import { createFaultRegistry, type FaultRegistry } from "./faults.js";
import { createNotificationDelivery, type NotificationDelivery } from "./notification-delivery.js";
import { createNotificationSettings, type NotificationSettings } from "./notification-settings.js";
import { createPushSigner, type PushSigner } from "./push-signer.js";
import { createOAuthStore, type OAuthStore } from "./oauth-store.js";
import { createQuota, type Quota } from "./quota.js";
import { createReviewStore, type ReviewStore } from "./review-store.js";
import { type ResolvedSeed, resolveSeed } from "./seed-spec.js";
import { createStats, type Stats } from "./stats.js";
import { ControlError, type EmulatorClient, type EmulatorConfig, type EmulatorOptions } from "./types.js";

export const DEFAULT_CLIENTS: readonly EmulatorClient[] = [{ id: "demo-client.apps.googleusercontent.com", secret: "demo-secret" }];
export const DEFAULT_TOKEN_TTL_SECONDS = 3599;
export const DEFAULT_QUOTA_PER_MINUTE = 300;

export interface EmulatorContext {
  readonly now: () => number;
  readonly seed: ResolvedSeed;
  /** Mutable through the control API. */
  readonly config: EmulatorConfig;
  readonly store: ReviewStore;
  readonly oauth: OAuthStore;
  readonly quota: Quota;
  readonly stats: Stats;
  readonly faults: FaultRegistry;
  /** Each account's Notifications v1 setting. */
  readonly notificationSettings: NotificationSettings;
  /** Publishes review notifications (Pub/Sub emulator, signed push) and holds their controls. */
  readonly notifications: NotificationDelivery;
  /** The key behind push JWTs and GET /oauth2/v3/certs. */
  readonly signer: PushSigner;
  /** Aborted on close, so injected latency does not hold shutdown up. */
  readonly shutdown: AbortSignal;
}

export function validateTtl(value: unknown): number {
  if (!Number.isInteger(value) || (value as number) < 1) throw new ControlError(400, "accessTokenTtlSeconds must be a positive integer");
  return value as number;
}

function validateClients(clients: readonly EmulatorClient[]): readonly EmulatorClient[] {
  if (clients.length === 0) throw new ControlError(400, "at least one OAuth client is needed");
  for (const c of clients) {
    if (typeof c.id !== "string" || c.id === "" || typeof c.secret !== "string" || c.secret === "") {
      throw new ControlError(400, "every client needs a non-empty id and secret");
    }
  }
  return clients;
}

export function createContext(opts: EmulatorOptions, shutdown: AbortSignal): EmulatorContext {
  const now = opts.now ?? Date.now;
  const seed = resolveSeed(opts.seed);
  const config: EmulatorConfig = {
    accessTokenTtlSeconds: validateTtl(opts.accessTokenTtlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS),
    autoApprove: opts.autoApprove ?? false,
  };
  const quotaPerMinute = opts.quotaPerMinute ?? DEFAULT_QUOTA_PER_MINUTE;
  if (!Number.isInteger(quotaPerMinute) || quotaPerMinute < 0) throw new ControlError(400, "quotaPerMinute must be a non-negative integer");
  const stats = createStats();
  const notificationSettings = createNotificationSettings();
  const signer = createPushSigner();
  const notifications = createNotificationDelivery({
    seed: seed.seed,
    now,
    shutdown,
    settings: notificationSettings,
    signer,
    pubsubEmulatorHost: opts.pubsubEmulatorHost,
    pushEndpoint: opts.pushEndpoint,
    pushAudience: opts.pushAudience,
    pushServiceAccount: opts.pushServiceAccount,
  });
  return {
    now,
    seed,
    config,
    store: createReviewStore(seed, now),
    oauth: createOAuthStore(validateClients(opts.clients ?? DEFAULT_CLIENTS), now, () => config.accessTokenTtlSeconds),
    quota: createQuota(quotaPerMinute, now),
    stats,
    faults: createFaultRegistry(seed.seed, () => stats.faultInjected()),
    notificationSettings,
    notifications,
    signer,
    shutdown,
  };
}
