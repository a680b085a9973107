// The ceilings an end-to-end fetcher job is measured against, on the same NATS server and
// Postgres as the job:
//  - raw JetStream: the job's number of messages of its mean size, published with a msgID the way
//    the fetcher publishes (acks on one subscription), consumed and acked: NATS alone;
//  - store and publish: the same, but each page of 50 is first written as the product must write
//    it, a `reviews` row, a `review_versions` row and its unpublished `review_publications` row
//    per review (the product's own tables, indexes and fillfactor: a scratch database migrated
//    like any other; the publication row since migration 0013), one statement per page, then
//    published. No Google, no diffing, no task state, no lease, no published mark: the floor of
//    any pipeline that keeps every change with a version before it publishes it.
import { randomBytes, randomUUID } from "node:crypto";
import { AckPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType } from "@nats-io/jetstream";
import { nanos } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import pg from "pg";
import { dropDatabase, openDatabase } from "../../lib/db/index.js";
import { createAckedPublisher } from "../../lib/nats/index.js";
import { scratchDatabaseUrl } from "./environment.js";
import { createCpuSampler, cpuSpent } from "./process-cpu.js";
import { count, seconds, us } from "./table.js";

/** A page of reviews, as Google serves them and the fetcher writes them. */
const PAGE = 50;
/** Reviews per location (the bench seed's mean). */
const PER_LOCATION = 250;

export interface StoreOptions {
  /** Bytes of a stored review (review_pb). */
  reviewBytes: number;
  /** Pool size: the fetcher's FETCH_DATABASE_CONNECTIONS. */
  connections: number;
  /** Pages in flight at once: the fetcher's concurrency. */
  pagesInFlight: number;
}

export interface CeilingRun {
  /** Until the last message was acked. */
  ms: number;
  /** With `store`: CPU ms of the Postgres backends that wrote the pages (when Postgres is local). */
  postgresMs?: number;
}

/**
 * Publishes `total` messages of `bytes` with a msgID (each page of 50 stored first, with
 * `store`) while one consumer consumes and acks them.
 */
export async function jetStreamCeiling(
  natsUrl: string,
  namespace: string,
  total: number,
  bytes: number,
  store?: StoreOptions,
): Promise<CeilingRun> {
  // the same client settings and publisher as the fetcher's (no eager async traces, acks on one
  // subscription: lib/nats/acked-publisher.ts), on a connection of its own
  const nc = await connect({ servers: natsUrl, noAsyncTraces: true });
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  const publisher = createAckedPublisher(nc);
  const stream = `${namespace}_RAWBENCH`;
  const subject = `${namespace}.rawbench.events`;
  let db: ScratchTables | undefined;
  try {
    db = store ? await scratchReviewTables(store) : undefined;
    await jsm.streams.add({
      name: stream,
      subjects: [subject],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      duplicate_window: nanos(30 * 60_000),
    });
    await jsm.consumers.add(stream, { durable_name: "raw", ack_policy: AckPolicy.Explicit });
    const payload = randomBytes(bytes);
    const consumer = await js.consumers.get(stream, "raw");
    const started = performance.now();
    const consumed = (async () => {
      const messages = await consumer.consume({ max_messages: 1_000 });
      let n = 0;
      for await (const m of messages) {
        m.ack();
        if (++n >= total) break;
      }
      await messages.close();
    })();
    const publish = (i: number) => publisher.publish(subject, payload, { msgID: `raw-${i}` });
    if (store && db) await storeAndPublishPages(db, store, total, publish);
    else await publishAll(total, publish);
    await consumed;
    const ms = performance.now() - started;
    return { ms, postgresMs: await db?.postgresMs() };
  } finally {
    publisher.close();
    await jsm.streams.delete(stream).catch(() => undefined);
    await nc.close();
    await db?.close();
  }
}

/** Up to 500 publishes in flight, as fast as they are acknowledged. */
async function publishAll(total: number, publish: (i: number) => Promise<unknown>): Promise<void> {
  let inFlight: Promise<unknown>[] = [];
  for (let i = 0; i < total; i++) {
    inFlight.push(publish(i));
    if (inFlight.length >= 500) {
      await Promise.all(inFlight);
      inFlight = [];
    }
  }
  await Promise.all(inFlight);
}

interface ScratchTables {
  pool: pg.Pool;
  /** CPU of the backends serving the scratch database since it was made (NaN unless Postgres is local). */
  postgresMs(): Promise<number>;
  close(): Promise<void>;
}

/** A scratch database with the product's schema, and a pool of `store.connections` on it. */
async function scratchReviewTables(store: StoreOptions): Promise<ScratchTables> {
  const url = scratchDatabaseUrl("bench-ceiling");
  try {
    await (await openDatabase({ databaseUrl: url, poolSize: 2 })).destroy();
  } catch (err) {
    await dropDatabase(url).catch(() => undefined);
    throw err;
  }
  const pool = new pg.Pool({ connectionString: url, max: store.connections });
  pool.on("error", () => undefined); // an idle connection's end is not the measurement's
  const sampler = createCpuSampler(url, () => ({}));
  const before = await sampler.sample();
  return {
    pool,
    postgresMs: async () => cpuSpent(before, await sampler.sample()).postgres!,
    async close() {
      await sampler.close();
      await pool.end().catch(() => undefined);
      await dropDatabase(url).catch(() => undefined);
    },
  };
}

/** `pagesInFlight` workers: each writes its next page of reviews and their versions in one statement, then publishes the page. */
async function storeAndPublishPages(
  db: ScratchTables,
  store: StoreOptions,
  total: number,
  publish: (i: number) => Promise<unknown>,
): Promise<void> {
  const pages = Math.ceil(total / PAGE);
  const locationCount = Math.ceil(total / PER_LOCATION);
  const locations = Array.from({ length: locationCount }, () => randomUUID());
  await db.pool.query(
    `INSERT INTO locations (id, scope_key, google_name) SELECT id, 'bench', 'accounts/1/locations/' || id FROM unnest($1::uuid[]) AS id`,
    [locations],
  );
  const blob = randomBytes(PAGE * store.reviewBytes);
  let next = 0;
  const worker = async () => {
    for (let page = next++; page < pages; page = next++) {
      const first = page * PAGE;
      const n = Math.min(PAGE, total - first);
      const names = Array.from({ length: n }, (_, k) => `review-${first + k}`);
      await db.pool.query(
        `WITH stored AS (
           INSERT INTO reviews (location_id, name, star_rating, update_time, review_pb, content_hash, last_seen_job, version, changed_at)
           SELECT $1::uuid, r.name, 5, now(), substring($2::bytea FROM (r.k::int - 1) * $3::int + 1 FOR $3::int), md5(r.name), $4::uuid, 1, now()
           FROM unnest($5::text[]) WITH ORDINALITY AS r(name, k)
           RETURNING id, review_pb, update_time),
         versioned AS (
           INSERT INTO review_versions (review_id, version, type, review_pb, update_time, job_id)
           SELECT id, 1, 'created', review_pb, update_time, $4::uuid FROM stored)
         INSERT INTO review_publications (review_id, version, job_id) SELECT id, 1, $4::uuid FROM stored`,
        [locations[Math.floor(first / PER_LOCATION)], blob, store.reviewBytes, randomUUID(), names],
      );
      await Promise.all(names.map((_, k) => publish(first + k)));
    }
  };
  await Promise.all(Array.from({ length: store.pagesInFlight }, worker));
}

/** A ceiling measured three times: median and range in msg/s, and the median run's Postgres CPU per message (µs). */
export interface Ceiling {
  median: number;
  low: number;
  high: number;
  postgresUs?: number;
}

/**
 * Three runs of a ceiling for `messages`: the box's load drifts (one run saw raw JetStream move
 * from 8.4k to 19.2k msg/s), so a ratio uses the median and the range is printed beside it.
 */
export async function measureCeiling(
  what: string,
  log: (line: string) => void,
  run: () => Promise<CeilingRun>,
  messages: number,
): Promise<Ceiling> {
  const runs: { rate: number; postgresUs?: number }[] = [];
  for (let i = 0; i < 3; i++) {
    const { ms, postgresMs } = await run();
    const postgresUs = postgresMs === undefined ? undefined : (postgresMs * 1000) / messages;
    runs.push({ rate: messages / (ms / 1000), postgresUs });
    const cpu = postgresUs === undefined ? "" : `, Postgres CPU ${us(postgresUs)} per message`;
    log(`${what} ${i + 1}/3: ${seconds(ms)} (${count(runs[i]!.rate)} msg/s${cpu})`);
  }
  const [low, median, high] = runs.sort((a, b) => a.rate - b.rate);
  return { median: median!.rate, low: low!.rate, high: high!.rate, postgresUs: median!.postgresUs };
}

export function ceilingFigure({ median, low, high, postgresUs }: Ceiling): string {
  const cpu = postgresUs === undefined ? "" : `; Postgres CPU ${us(postgresUs)} per message`;
  return `${count(median)} msg/s (range ${count(low)}–${count(high)}${cpu})`;
}
