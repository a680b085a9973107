import type { Sql } from "../store/db.js";
import { markPublished } from "../store/review-outbox-store.js";
import { coalesce } from "./coalesce.js";

/** A version JetStream acknowledged. */
export interface PublishedVersion {
  reviewId: string;
  version: number;
}

/** At most this many versions in one marking statement. */
const MAX_BATCH = 5_000;

/**
 * Records published versions for a whole fetcher instance, group-commit style (coalesce.ts):
 * marking was one statement per page; with pages running in parallel, one statement now marks
 * many. A failure fails every page in its statement, as its own statement would have (each
 * retries; published versions go out again as duplicates, which the publisher checks).
 */
export interface PublishMarks {
  mark(versions: PublishedVersion[]): Promise<void>;
}

export function createPublishMarks(db: Sql): PublishMarks {
  const marking = coalesce<PublishedVersion[], void>({
    run: (batch) => markPublished(db, batch.flat()),
    weight: (versions) => versions.length,
    maxWeight: MAX_BATCH,
  });
  return {
    mark: (versions) => (versions.length === 0 ? Promise.resolve() : marking(versions)),
  };
}
