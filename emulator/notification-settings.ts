// Each account's My Business Notifications v1 NotificationSetting (reference notifications.md):
// one setting, so one Pub/Sub topic, per account, covering every location of it. Nothing is
// set until someone PATCHes it; an empty topic or an empty type list means "off".
import type { NotificationSettingJson } from "./types.js";

/** Google's NotificationType values (the Q&A ones are deprecated but still accepted). */
export const NOTIFICATION_TYPES = [
  "GOOGLE_UPDATE",
  "NEW_REVIEW",
  "UPDATED_REVIEW",
  "NEW_CUSTOMER_MEDIA",
  "NEW_QUESTION",
  "UPDATED_QUESTION",
  "NEW_ANSWER",
  "UPDATED_ANSWER",
  "DUPLICATE_LOCATION",
  "LOSS_OF_VOICE_OF_MERCHANT",
  "VOICE_OF_MERCHANT_UPDATED",
] as const;

/** The only types the emulator sends: Google has none for a deleted review. */
export type ReviewNotificationType = "NEW_REVIEW" | "UPDATED_REVIEW";

export interface NotificationSetting {
  pubsubTopic: string;
  notificationTypes: string[];
}

/**
 * `projects/{project}/topics/{topic}` with Pub/Sub's topic-id rules: 3-255 characters, a letter
 * first, then letters, digits and `-_.~+%`, never starting with "goog". Project ids are taken
 * loosely (letters, digits, `-`, and the `domain:` prefix of old domain-scoped projects), so
 * tests may name short projects the Pub/Sub emulator accepts.
 */
const TOPIC = /^projects\/([a-z0-9][a-z0-9.:-]{0,99})\/topics\/([A-Za-z][A-Za-z0-9\-_.~+%]{2,254})$/;

export function parseTopic(name: string): { project: string; topic: string } | undefined {
  const m = TOPIC.exec(name);
  if (!m || (m[2] as string).toLowerCase().startsWith("goog")) return undefined;
  return { project: m[1] as string, topic: m[2] as string };
}

export interface NotificationSettings {
  get(accountId: string): NotificationSetting | undefined;
  set(accountId: string, setting: NotificationSetting): void;
  /** The wire form; fields that are empty are left out, as proto3 JSON does. */
  render(accountId: string): NotificationSettingJson;
  all(): NotificationSettingJson[];
}

export function createNotificationSettings(): NotificationSettings {
  const byAccount = new Map<string, NotificationSetting>();

  function render(accountId: string): NotificationSettingJson {
    const s = byAccount.get(accountId);
    const out: NotificationSettingJson = { name: `accounts/${accountId}/notificationSetting` };
    if (s?.pubsubTopic) out.pubsubTopic = s.pubsubTopic;
    if (s && s.notificationTypes.length > 0) out.notificationTypes = [...s.notificationTypes];
    return out;
  }

  return {
    get: (accountId) => byAccount.get(accountId),
    set(accountId, setting) {
      byAccount.set(accountId, { pubsubTopic: setting.pubsubTopic, notificationTypes: [...new Set(setting.notificationTypes)] });
    },
    render,
    all: () => [...byAccount.keys()].map(render),
  };
}
