// What Google does after a review is added or edited: publish {type, location, review} to the
// account's topic (reference notifications.md), here (a) on the Cloud Pub/Sub emulator when one
// is configured and (b) as a signed push request to a configured endpoint, redelivered with
// backoff until acknowledged, at least once. The drop / duplicate / delay levers model what
// Google does not promise (it may lose or repeat notifications): decisions come from a PRNG
// seeded from the emulator's seed, so a run with the same seed and edits drops the same ones.
import { randomInt } from "node:crypto";
import { PubSub, type Topic } from "@google-cloud/pubsub";
import { sleep } from "./http-io.js";
import { type NotificationSettings, parseTopic, type ReviewNotificationType } from "./notification-settings.js";
import { mixSeed, mulberry32 } from "./prng.js";
import type { PushSigner } from "./push-signer.js";
import { ControlError, type NotificationControlInput, type NotificationCounters, type NotificationState } from "./types.js";

export const DEFAULT_PUSH_SERVICE_ACCOUNT = "pubsub-push@reviewflow-emulator.iam.gserviceaccount.com";
/** Google's push backoff is 10 s to 600 s; the emulator's is shorter so tests see a retry in seconds. */
export const PUSH_BACKOFF_FIRST_MS = 1_000;
export const PUSH_BACKOFF_MAX_MS = 30_000;
/** 1+2+4+8+16+30+30 s: about 1.5 minutes of redelivery before the emulator gives up on a message. */
export const PUSH_MAX_ATTEMPTS = 8;
/** Google waits for a push acknowledgement up to the ack deadline, 10 s by default. */
const PUSH_TIMEOUT_MS = 10_000;
const PUBSUB_TIMEOUT_MS = 10_000;
const MAX_DELAY_MS = 600_000;
/** Pub/Sub's acknowledgement codes for push. */
const ACK_STATUSES = new Set([102, 200, 201, 202, 204]);

export interface DeliveryOptions {
  seed: number;
  now: () => number;
  shutdown: AbortSignal;
  settings: NotificationSettings;
  signer: PushSigner;
  pubsubEmulatorHost?: string | undefined;
  pushEndpoint?: string | undefined;
  pushAudience?: string | undefined;
  pushServiceAccount?: string | undefined;
}

export interface NotificationDelivery {
  /** Called after a review was added (NEW_REVIEW) or edited (UPDATED_REVIEW); never throws. */
  reviewChanged(type: ReviewNotificationType, reviewName: string): void;
  /** Whether the Pub/Sub emulator has this topic; undefined when no Pub/Sub emulator is configured. Throws when it cannot be asked. */
  topicExists(topic: string): Promise<boolean | undefined>;
  isDenied(topic: string): boolean;
  state(): NotificationState;
  configure(input: NotificationControlInput): NotificationState;
  resetCounters(): void;
  close(): Promise<void>;
}

interface Config {
  pushEndpoint: string | null;
  pushAudience: string | null;
  pushServiceAccount: string;
  dropRatio: number;
  duplicateRatio: number;
  delayMs: number;
  denyTopics: Set<string>;
}

interface Outgoing {
  messageId: string;
  publishTime: string;
  data: string;
  topic: string;
}

function checkUrl(value: string, key: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ControlError(400, `${key} must be an http(s) URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new ControlError(400, `${key} must be an http(s) URL`);
  return value;
}

/** A string, or null / "" to clear; undefined leaves the value alone. */
function optClearable(input: Record<string, unknown>, key: string): string | null | undefined {
  const v = input[key];
  if (v === undefined) return undefined;
  if (v === null || v === "") return null;
  if (typeof v !== "string") throw new ControlError(400, `${key} must be a string or null`);
  return v;
}

function optRatio(input: Record<string, unknown>, key: string): number | undefined {
  const v = input[key];
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !(v >= 0 && v <= 1)) throw new ControlError(400, `${key} must be a number between 0 and 1`);
  return v;
}

const CONTROL_KEYS = [
  "push_endpoint",
  "push_audience",
  "push_service_account",
  "drop_ratio",
  "duplicate_ratio",
  "delay_ms",
  "deny_publish_topics",
  "reset_counters",
];

/** camelCase keys become snake_case; an unknown key is a 400, so a typo never silently does nothing. */
function normalise(raw: unknown): Record<string, unknown> {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new ControlError(400, "expected a JSON object");
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    const key = k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    if (!CONTROL_KEYS.includes(key)) throw new ControlError(400, `unknown field ${k} (expected ${CONTROL_KEYS.join(", ")})`);
    out[key] = v;
  }
  return out;
}

function zeroCounters(): Omit<NotificationCounters, "in_flight"> {
  return {
    published: 0,
    pushed: 0,
    push_failures: 0,
    push_abandoned: 0,
    pubsub_published: 0,
    pubsub_failures: 0,
    dropped: 0,
    duplicated: 0,
    delayed: 0,
  };
}

function logError(msg: string, fields: Record<string, unknown>): void {
  process.stderr.write(`${JSON.stringify({ level: "warn", service: "google-emulator", msg, ...fields })}\n`);
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function createNotificationDelivery(opts: DeliveryOptions): NotificationDelivery {
  const rng = mulberry32(mixSeed(opts.seed, 12));
  const config: Config = {
    pushEndpoint: opts.pushEndpoint ? checkUrl(opts.pushEndpoint, "pushEndpoint") : null,
    pushAudience: opts.pushAudience || null,
    pushServiceAccount: opts.pushServiceAccount || DEFAULT_PUSH_SERVICE_ACCOUNT,
    dropRatio: 0,
    duplicateRatio: 0,
    delayMs: 0,
    denyTopics: new Set(),
  };
  let counters = zeroCounters();
  // Work still running, not history: kept apart from the counters so a reset leaves it alone.
  let inFlight = 0;
  // Google's messageIds are 16-digit decimals unique within a topic. A random base per start keeps
  // ids of a restarted emulator from colliding with the ones a receiver has already de-duplicated.
  let nextId = randomInt(1_000_000, 8_000_000) * 1_000_000_000;
  const pubsubHost = opts.pubsubEmulatorHost || undefined;
  let pubsub: PubSub | undefined;
  const topics = new Map<string, Topic>();

  function client(): PubSub {
    // universeDomain given, so google-auth-library does not probe the GCE metadata server for it
    // (seconds of timeouts and a MetadataLookupWarning off GCP); the emulator needs no credentials.
    pubsub ??= new PubSub({
      projectId: "reviewflow-emulator",
      apiEndpoint: pubsubHost,
      emulatorMode: true,
      universeDomain: "googleapis.com",
    });
    return pubsub;
  }

  function topicOf(name: string): Topic {
    let t = topics.get(name);
    if (!t) topics.set(name, (t = client().topic(name, { batching: { maxMessages: 1, maxMilliseconds: 0 } })));
    return t;
  }

  async function publishToPubsub(out: Outgoing): Promise<void> {
    try {
      await withTimeout(topicOf(out.topic).publishMessage({ data: Buffer.from(out.data) }), PUBSUB_TIMEOUT_MS, "Pub/Sub publish");
      counters.pubsub_published++;
    } catch (e) {
      counters.pubsub_failures++;
      logError("notification publish to the Pub/Sub emulator failed", { topic: out.topic, error: (e as Error).message });
    }
  }

  async function push(out: Outgoing): Promise<void> {
    const parsed = parseTopic(out.topic);
    const body = JSON.stringify({
      message: {
        data: Buffer.from(out.data).toString("base64"),
        attributes: {},
        messageId: out.messageId,
        message_id: out.messageId,
        publishTime: out.publishTime,
        publish_time: out.publishTime,
      },
      subscription: `projects/${parsed?.project}/subscriptions/${parsed?.topic}-push`,
    });
    let backoff = PUSH_BACKOFF_FIRST_MS;
    for (let attempt = 1; attempt <= PUSH_MAX_ATTEMPTS && !opts.shutdown.aborted; attempt++) {
      const endpoint = config.pushEndpoint;
      if (!endpoint) return; // push turned off while this message waited
      try {
        const token = await opts.signer.sign({ aud: config.pushAudience ?? endpoint, email: config.pushServiceAccount });
        const res = await fetch(endpoint, {
          method: "POST",
          body,
          headers: {
            "content-type": "application/json",
            authorization: `Bearer ${token}`,
            "user-agent": "APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)",
          },
          signal: AbortSignal.any([opts.shutdown, AbortSignal.timeout(PUSH_TIMEOUT_MS)]),
        });
        await res.arrayBuffer().catch(() => undefined);
        if (ACK_STATUSES.has(res.status)) {
          counters.pushed++;
          return;
        }
        counters.push_failures++;
      } catch {
        if (opts.shutdown.aborted) return;
        counters.push_failures++;
      }
      if (attempt === PUSH_MAX_ATTEMPTS) break;
      await sleep(backoff, opts.shutdown);
      backoff = Math.min(backoff * 2, PUSH_BACKOFF_MAX_MS);
    }
    if (!opts.shutdown.aborted) {
      counters.push_abandoned++;
      logError("push notification abandoned after the last attempt", { messageId: out.messageId, attempts: PUSH_MAX_ATTEMPTS });
    }
  }

  async function deliver(out: Outgoing, copies: number): Promise<void> {
    try {
      if (config.delayMs > 0) {
        counters.delayed++;
        await sleep(config.delayMs, opts.shutdown);
      }
      for (let i = 0; i < copies && !opts.shutdown.aborted; i++) {
        await Promise.all([pubsubHost ? publishToPubsub(out) : undefined, config.pushEndpoint ? push(out) : undefined]);
      }
    } finally {
      inFlight--;
    }
  }

  return {
    reviewChanged(type, reviewName) {
      const m = /^accounts\/([^/]+)\/locations\/([^/]+)\/reviews\/[^/]+$/.exec(reviewName);
      if (!m) return;
      const setting = opts.settings.get(m[1] as string);
      if (!setting || !setting.pubsubTopic || !setting.notificationTypes.includes(type)) return;
      // Both draws happen for every notification, so one ratio never shifts the other's decisions.
      const drop = rng() < config.dropRatio;
      const duplicate = rng() < config.duplicateRatio;
      if (drop) {
        counters.dropped++;
        return;
      }
      const out: Outgoing = {
        messageId: String(nextId++),
        publishTime: new Date(opts.now()).toISOString(),
        data: JSON.stringify({ type, location: `accounts/${m[1]}/locations/${m[2]}`, review: reviewName }),
        topic: setting.pubsubTopic,
      };
      counters.published++;
      if (duplicate) counters.duplicated++;
      inFlight++;
      void deliver(out, duplicate ? 2 : 1).catch((e: unknown) => logError("notification delivery failed", { error: String(e) }));
    },

    async topicExists(topic) {
      if (!pubsubHost) return undefined;
      const [exists] = await withTimeout(client().topic(topic).exists(), PUBSUB_TIMEOUT_MS, "Pub/Sub topic lookup");
      return exists;
    },

    isDenied: (topic) => config.denyTopics.has(topic),

    state() {
      return {
        push_endpoint: config.pushEndpoint,
        push_audience: config.pushAudience ?? config.pushEndpoint,
        push_service_account: config.pushServiceAccount,
        pubsub_emulator_host: pubsubHost ?? null,
        drop_ratio: config.dropRatio,
        duplicate_ratio: config.duplicateRatio,
        delay_ms: config.delayMs,
        deny_publish_topics: [...config.denyTopics],
        settings: opts.settings.all(),
        counters: { ...counters, in_flight: inFlight },
      };
    },

    configure(raw) {
      const input = normalise(raw);
      // Validate everything before changing anything: a bad field leaves the state as it was.
      const endpoint = optClearable(input, "push_endpoint");
      if (typeof endpoint === "string") checkUrl(endpoint, "push_endpoint");
      const audience = optClearable(input, "push_audience");
      const account = optClearable(input, "push_service_account");
      const drop = optRatio(input, "drop_ratio");
      const duplicate = optRatio(input, "duplicate_ratio");
      const delay = input.delay_ms;
      if (delay !== undefined && (!Number.isInteger(delay) || (delay as number) < 0 || (delay as number) > MAX_DELAY_MS)) {
        throw new ControlError(400, `delay_ms must be an integer from 0 to ${MAX_DELAY_MS}`);
      }
      const deny = input.deny_publish_topics;
      if (deny !== undefined && (!Array.isArray(deny) || !deny.every((t) => typeof t === "string"))) {
        throw new ControlError(400, "deny_publish_topics must be an array of topic names");
      }
      const reset = input.reset_counters;
      if (reset !== undefined && typeof reset !== "boolean") throw new ControlError(400, "reset_counters must be a boolean");

      if (endpoint !== undefined) config.pushEndpoint = endpoint;
      if (audience !== undefined) config.pushAudience = audience;
      if (account !== undefined) config.pushServiceAccount = account ?? DEFAULT_PUSH_SERVICE_ACCOUNT;
      if (drop !== undefined) config.dropRatio = drop;
      if (duplicate !== undefined) config.duplicateRatio = duplicate;
      if (delay !== undefined) config.delayMs = delay as number;
      if (deny !== undefined) config.denyTopics = new Set(deny as string[]);
      if (reset === true) this.resetCounters();
      return this.state();
    },

    resetCounters() {
      counters = zeroCounters();
    },

    async close() {
      await pubsub?.close().catch(() => undefined);
    },
  };
}
