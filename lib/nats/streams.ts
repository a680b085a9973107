import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type JetStreamManager,
  type StreamConfig,
  type ConsumerConfig,
} from "@nats-io/jetstream";
import { nanos } from "@nats-io/nats-core";
import { STAGES, type StreamNames } from "./names.js";
import { replicaPlacementError, type ClusterView } from "./cluster.js";

export interface StreamOptions {
  /** How long REVIEWS and DEAD_LETTERS keep messages. */
  retentionDays?: number;
  /** How long a worker may hold a FETCH task before it is redelivered (a crashed worker's tasks come back after this). */
  ackWaitMs?: number;
  /** Deliveries before JetStream gives up on a task (then the MAX_DELIVERIES advisory dead-letters it). */
  maxDeliver?: number;
  /** De-duplication window of REVIEWS (Nats-Msg-Id); must outlast any redelivery of a page. */
  reviewsDuplicateWindowMs?: number;
  /** Replicas of every stream (NATS_REPLICAS, default 1); the stage consumers follow their stream. */
  replicas?: number;
}

/** What ensureStreams did to a stream's replicas, for the start-up log. */
export interface ReplicaChange {
  stream: string;
  from: number;
  to: number;
}

const DAY_MS = 86_400_000;

export function streamConfigs(names: StreamNames, options: StreamOptions = {}): Partial<StreamConfig>[] {
  const maxAge = nanos((options.retentionDays ?? 30) * DAY_MS);
  const replicas = options.replicas ?? 1;
  const streams: Partial<StreamConfig>[] = [
    {
      name: names.fetch.stream,
      subjects: [...STAGES.map((stage) => names.fetch.subject(stage)), names.fetch.notifications.subject],
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
  return streams.map((config) => ({ ...config, num_replicas: replicas }));
}

export function consumerConfigs(names: StreamNames, options: StreamOptions = {}): Partial<ConsumerConfig>[] {
  const notifications: Partial<ConsumerConfig> = {
    durable_name: names.fetch.notifications.consumer,
    filter_subject: names.fetch.notifications.subject,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(options.ackWaitMs ?? 30_000),
    max_deliver: options.maxDeliver ?? 10,
    max_ack_pending: 1_000,
  };
  return [
    notifications,
    ...STAGES.map((stage) => ({
      durable_name: names.fetch.consumer(stage),
      filter_subject: names.fetch.subject(stage),
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(options.ackWaitMs ?? 30_000),
      max_deliver: options.maxDeliver ?? 10,
      // tasks waiting for their project's quota are held (stage-worker.ts: up to 2,000 per stage
      // and instance), so that every project's backlog can wait in the quota at once instead of
      // in stream order behind other projects' (ten projects' full jobs hold ~3,000); bounded all
      // the same, and tasks that do not wait for quota are bounded by the workers' slots
      max_ack_pending: 5_000,
    })),
  ];
}

/**
 * Creates or updates every stream and consumer in DESIGN.md; safe to run at every start-up. A
 * stream with other replicas than NATS_REPLICAS is updated to them (nats-server 2.9 moves its
 * data; the stage consumers follow), and the result is read back: a stream that does not end
 * up with them, or a cluster that cannot place them, is an error naming NATS_REPLICAS.
 */
export async function ensureStreams(
  jsm: JetStreamManager,
  names: StreamNames,
  options: StreamOptions = {},
  cluster?: ClusterView,
): Promise<ReplicaChange[]> {
  const replicas = options.replicas ?? 1;
  const changes: ReplicaChange[] = [];
  for (const config of streamConfigs(names, options)) {
    const name = config.name!;
    const existing = await jsm.streams.info(name).catch((err: unknown) => (isNotFound(err) ? undefined : Promise.reject(err)));
    try {
      if (existing) {
        const { name: _name, retention: _retention, storage: _storage, ...mutable } = config;
        await jsm.streams.update(name, mutable);
      } else {
        await jsm.streams.add({ ...config, name });
      }
    } catch (err) {
      throw (await replicaPlacementError(err, name, replicas, cluster)) ?? err;
    }
    const now = existing ? (await jsm.streams.info(name)).config.num_replicas : replicas;
    if (now !== replicas) {
      throw new Error(
        `stream ${name} has ${now} replicas after its update, but NATS_REPLICAS=${replicas}: the server did not apply the change; change them by hand (nats stream edit ${name} --replicas ${replicas}) or set NATS_REPLICAS=${now}`,
      );
    }
    const before = existing?.config.num_replicas || 1;
    if (existing && before !== replicas) changes.push({ stream: name, from: before, to: replicas });
  }
  for (const config of consumerConfigs(names, options)) {
    const durable = config.durable_name!;
    const exists = await jsm.consumers.info(names.fetch.stream, durable).then(
      () => true,
      (err: unknown) => (isNotFound(err) ? false : Promise.reject(err)),
    );
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
  return changes;
}

/** Deletes every stream of a namespace (tests and drills clean up after themselves). */
export async function deleteStreams(jsm: JetStreamManager, names: StreamNames, options: { workOnly?: boolean } = {}): Promise<void> {
  const streams = options.workOnly
    ? [names.fetch.stream, names.deadLetters.stream]
    : [names.fetch.stream, names.reviews.stream, names.deadLetters.stream, names.tokenEvents.stream];
  for (const stream of streams) {
    await jsm.streams.delete(stream).catch((err: unknown) => (isNotFound(err) ? undefined : Promise.reject(err)));
  }
}

/**
 * The stream or consumer asked about does not exist: known by the server's API error code, which
 * @nats-io/jetstream 3.x carries as `JetStreamApiError.code` (StreamNotFoundError and
 * ConsumerNotFoundError are its subclasses), never by the wording of its message.
 */
export function isNotFound(err: unknown): boolean {
  return (
    err instanceof JetStreamApiError && (err.code === JetStreamApiCodes.StreamNotFound || err.code === JetStreamApiCodes.ConsumerNotFound)
  );
}
