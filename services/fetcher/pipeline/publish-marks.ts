import type { Db } from "../store/db.js";
import { markPublished } from "../store/review-outbox-store.js";

/** A version JetStream acknowledged. */
export interface PublishedVersion {
  reviewId: string;
  version: number;
}

/** At most this many versions in one marking statement. */
const MAX_BATCH = 5_000;

/**
 * Records published versions for a whole fetcher instance, group-commit style: while one marking
 * statement runs, the versions other pages publish meanwhile wait and then go together in the
 * next one. Marking was one statement per page (a round trip, a socket write on each side and a
 * commit); with pages running in parallel, one statement now marks many. Nobody waits longer than
 * the statement in flight plus their own, and with nothing in flight a mark starts at once.
 * A caller's promise settles with the statement that held its versions: a failure fails every
 * page in it, as its own statement would have (each retries; published versions go out again as
 * duplicates, which the publisher checks).
 */
export interface PublishMarks {
  mark(versions: PublishedVersion[]): Promise<void>;
}

interface Waiting {
  versions: PublishedVersion[];
  resolve(): void;
  reject(err: unknown): void;
}

export function createPublishMarks(db: Db): PublishMarks {
  let queue: Waiting[] = [];
  let writing = false;

  async function drain(): Promise<void> {
    writing = true;
    try {
      while (queue.length > 0) {
        const batch = takeBatch();
        try {
          await markPublished(
            db,
            batch.flatMap((w) => w.versions),
          );
          for (const w of batch) w.resolve();
        } catch (err) {
          for (const w of batch) w.reject(err);
        }
      }
    } finally {
      writing = false;
    }
  }

  /** Whole callers from the front of the queue, up to MAX_BATCH versions (at least one caller). */
  function takeBatch(): Waiting[] {
    let n = 0;
    let count = 0;
    while (n < queue.length && (n === 0 || count + queue[n]!.versions.length <= MAX_BATCH)) count += queue[n++]!.versions.length;
    const batch = queue.slice(0, n);
    queue = queue.slice(n);
    return batch;
  }

  return {
    mark(versions) {
      if (versions.length === 0) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        queue.push({ versions, resolve, reject });
        if (!writing) void drain();
      });
    },
  };
}
