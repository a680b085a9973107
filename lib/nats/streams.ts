import { AckPolicy, DeliverPolicy, RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig, type ConsumerConfig } from "@nats-io/jetstream";
import { nanos } from "@nats-io/nats-core";
import { STAGES, type StreamNames } from "./names.js";

export interface StreamOptions {
  /** How long REVIEWS and DEAD_LETTERS keep messages. */
  retentionDays?: number;
  /** How long a worker may hold a FETCH task before it is redelivered (a crashed worker's tasks come back after this). */
  ackWaitMs?: number;
  /** Deliveries before JetStream gives up on a task (then the MAX_DELIVERIES advisory dead-letters it). */
  maxDeliver?: number;
  /** De-duplication window of REVIEWS (Nats-Msg-Id); must outlast any redelivery of a page. */
  reviewsDuplicateWindowMs?: number;
}

const DAY_MS = 86_400_000;

export function streamConfigs(names: StreamNames, options: StreamOptions = {}): Partial<StreamConfig>[] {
  const maxAge = nanos((options.retentionDays ?? 30) * DAY_MS);
  return [
    {
      name: names.fetch.stream,
      subjects: STAGES.map((stage) => names.fetch.subject(stage)),
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      duplicate_window: nanos(2 * 60_000),
    },
    {
      name: names.reviews.stream,
      subjects: [names.reviews.all],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      max_age: maxAge,
      duplicate_window: nanos(options.reviewsDuplicateWindowMs ?? 30 * 60_000),
    },
    {
      name: names.deadLetters.stream,
      subjects: [names.deadLetters.all],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      max_age: maxAge,
      duplicate_window: nanos(2 * 60_000),
    },
    {
      name: names.tokenEvents.stream,
      subjects: [names.tokenEvents.all],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      max_age: maxAge,
    },
  ];
}

export function consumerConfigs(names: StreamNames, options: StreamOptions = {}): Partial<ConsumerConfig>[] {
  return STAGES.map((stage) => ({
    durable_name: names.fetch.consumer(stage),
    filter_subject: names.fetch.subject(stage),
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(options.ackWaitMs ?? 30_000),
    max_deliver: options.maxDeliver ?? 10,
    // enough to keep two instances busy; bounded so one slow worker cannot hoard the backlog
    max_ack_pending: 1_000,
  }));
}

/** Creates or updates every stream and consumer in DESIGN.md; safe to run at every start-up. */
export async function ensureStreams(jsm: JetStreamManager, names: StreamNames, options: StreamOptions = {}): Promise<void> {
  for (const config of streamConfigs(names, options)) {
    const name = config.name!;
    const exists = await jsm.streams.info(name).then(() => true, (err: unknown) => (isNotFound(err) ? false : Promise.reject(err)));
    if (exists) {
      const { name: _name, retention: _retention, storage: _storage, ...mutable } = config;
      await jsm.streams.update(name, mutable);
    } else {
      await jsm.streams.add({ ...config, name });
    }
  }
  for (const config of consumerConfigs(names, options)) {
    const durable = config.durable_name!;
    const exists = await jsm.consumers.info(names.fetch.stream, durable).then(() => true, (err: unknown) => (isNotFound(err) ? false : Promise.reject(err)));
    if (exists) {
      // only the fetcher, which owns the stage consumers, passes their settings: a service that
      // does not (the token service) must not reset FETCH_ACK_WAIT_MS / FETCH_MAX_DELIVER to defaults
      if (options.ackWaitMs === undefined && options.maxDeliver === undefined) continue;
      const { durable_name: _d, filter_subject: _f, ack_policy: _a, deliver_policy: _p, ...mutable } = config;
      await jsm.consumers.update(names.fetch.stream, durable, mutable);
    } else {
      await jsm.consumers.add(names.fetch.stream, config);
    }
  }
}

/** Deletes every stream of a namespace (tests and drills clean up after themselves). */
export async function deleteStreams(jsm: JetStreamManager, names: StreamNames): Promise<void> {
  for (const stream of [names.fetch.stream, names.reviews.stream, names.deadLetters.stream, names.tokenEvents.stream]) {
    await jsm.streams.delete(stream).catch((err: unknown) => (isNotFound(err) ? undefined : Promise.reject(err)));
  }
}

function isNotFound(err: unknown): boolean {
  const e = err as { code?: unknown; api_error?: { err_code?: number }; message?: string };
  return e?.api_error?.err_code === 10059 || e?.api_error?.err_code === 10014 || e?.code === "404" || e?.code === 404 || /not found/i.test(String(e?.message));
}
