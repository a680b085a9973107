import { toBinary } from "@bufbuild/protobuf";
import { FetchReviewsTaskSchema, type FetchReviewsTask } from "../../../gen/reviewflow/reviews/v1/tasks_pb.js";
import type { Review } from "../../../gen/reviewflow/reviews/v1/review_pb.js";
import type { JobRow, NewTask } from "../store/job-store.js";
import { afterFinish } from "../store/task-finish.js";
import { claimPass } from "../store/location-pass-store.js";
import { notificationPublishTime } from "../store/notification-store.js";
import { commitReviewPage, readPage, type StoredReviewState } from "../store/review-store.js";
import { handOff } from "./pass-handoff.js";
import { callGoogle, publishTask, type CallOptions, type PipelineContext, type TaskAttempt } from "./pipeline-context.js";
import { diffPage, fingerprint, notAfter } from "./review-diff.js";
import { EVENT_TYPE, publishPending, publishVersions, updateTimeOf, type OutboxEvent } from "./review-publisher.js";
import type { StageHandler } from "./stage-handler.js";
import { reviewsTaskId, reviewsTaskPrefix } from "./task-ids.js";

/** reviews.get calls in flight at once while a pass confirms its deletion candidates. */
const CONFIRM_CONCURRENCY = 4;

/**
 * `fetch.reviews`: one page of one location, inside the location's one pass (the first page
 * takes the lease or parks until the running pass ends; see location-pass-store.ts).
 *
 * The page's new versions, the task's end and the lease commit in one statement; then the
 * versions are published (the outbox: a crash in between leaves them to the maintenance sweep)
 * and only then can the job complete. The next page is published before the commit, under its
 * deterministic id. The last page of a full pass proposes as deleted the stored reviews it never
 * saw, and asks Google about each (reviews.get): 404 → deleted; found → an ordinary update.
 */
export function createReviewsStage(ctx: PipelineContext): StageHandler<typeof FetchReviewsTaskSchema> {
  const leaseSeconds = ctx.settings.stallSeconds;
  return {
    stage: "reviews",
    schema: FetchReviewsTaskSchema,
    describe: (task) => ({
      jobId: task.jobId,
      taskId: reviewsTaskId(task.jobId, task.locationId, task.pageNumber),
      resource: task.locationName,
      after: task.pageNumber > 1 ? reviewsTaskId(task.jobId, task.locationId, task.pageNumber - 1) : undefined,
    }),
    async run(task, job, attempt) {
      const taskId = reviewsTaskId(job.id, task.locationId, task.pageNumber);
      // the first page takes the pass's lease once its quota slot is granted, right before its
      // call: taken before the wait, ten projects' first pages (2,000 lease writes at once) kept
      // each other from reaching their quota waits, the last project's for up to 2.8 s
      const call: CallOptions = {};
      // the location had no stored review when the pass took its lease: its pages before the
      // last have nothing to compare with (FetchReviewsTask.nothing_stored)
      let nothingStored = task.nothingStored;
      if (task.pageNumber === 1)
        call.beforeCall = async () => {
          const claim = await claimPass(ctx.db, {
            locationId: task.locationId,
            jobId: job.id,
            taskId,
            task: toBinary(FetchReviewsTaskSchema, task),
            leaseSeconds,
          });
          if (!claim.acquired) throw new PassParked();
          nothingStored = claim.nothingStored;
        };

      let fetchedPage: FetchedPage;
      try {
        fetchedPage = await fetchPage(ctx, task, job, attempt, call);
      } catch (err) {
        // parked (its slot went to the project's next caller): acked without finishing, so the
        // job waits; the pass that ends hands it on
        if (err instanceof PassParked) return { counted: false, parked: true };
        throw err;
      }
      const { reviews, nextToken, goneName } = fetchedPage;
      const names = reviews.map((r) => r.name);
      const fetched = fingerprint(reviews);
      const lastPage = nextToken === undefined;
      // a page of a new location's history, before the last, reads nothing: nothing is stored
      // but what this pass stored itself (a review Google lists twice is checked again by the
      // write, under the row's lock). A replay reads: it may run long after its pass, when more
      // is stored. Median of four back-to-back pairs on a 149k-review first fetch: 9,340 vs
      // 8,680 reviews/s
      const blind = nothingStored && !lastPage && !task.reviewName && !attempt.replay;
      // the stored reviews, and on a list's last page whether the pass is complete and (full) what
      // it proposes as deleted: one statement
      const { stored, completePass, candidates } = blind
        ? { stored: new Map<string, StoredReviewState>(), completePass: false, candidates: [] }
        : await readPage(ctx.db, {
            locationId: task.locationId,
            names: goneName ? [...names, goneName] : names,
            hashes: new Map(fetched.map((f) => [f.review.name, f.hash])),
            lastPage:
              lastPage && !task.reviewName
                ? {
                    jobId: job.id,
                    taskPrefix: reviewsTaskPrefix(job.id, task.locationId),
                    jobStartedAt: job.started_at ?? job.created_at,
                    proposeDeletions: job.mode === "full",
                  }
                : undefined,
          });
      const deletions: StoredReviewState[] = [];
      const gone = goneName ? stored.get(goneName) : undefined;
      if (gone && !gone.deleted_at) deletions.push(gone);
      const diff = diffPage(fetched, stored);

      if (candidates.length > 0) {
        const found = await confirmDeletions(ctx, job, attempt, candidates, deletions);
        const more = diffPage(fingerprint(found), new Map(candidates.map((c) => [c.name, c])));
        diff.writes.push(...more.writes);
        diff.unchanged.push(...more.unchanged);
        for (const review of found)
          stored.set(
            review.name,
            candidates.find((c) => c.name === review.name)!,
          );
      }

      // the next page before our commit, right before it: it waits for that commit (the
      // runner's `after`), so the shorter the gap, the less it waits
      const children: NewTask[] = [];
      if (nextToken) {
        const id = reviewsTaskId(job.id, task.locationId, task.pageNumber + 1);
        children.push({ id, stage: "reviews" });
        await publishTask(
          ctx,
          "reviews",
          FetchReviewsTaskSchema,
          {
            jobId: job.id,
            locationName: task.locationName,
            locationId: task.locationId,
            pageToken: nextToken,
            pageNumber: task.pageNumber + 1,
            stopAtUpdateTime: task.stopAtUpdateTime,
            nothingStored,
          },
          id,
        );
      }

      // the page's versions, the lease and the task's end: one statement
      const outcome = await commitReviewPage(
        ctx.db,
        {
          owner: { locationId: task.locationId, tenantId: job.tenant_id, clientId: job.client_id, jobId: job.id },
          writes: diff.writes,
          unchanged: diff.unchanged,
          deletions: deletions.map((d) => ({ id: d.id, version: d.version })),
          storedIds: [...stored.values()].map((s) => s.id),
          renewLeaseSeconds: leaseSeconds,
          lastPage,
          advanceWatermark: completePass,
        },
        {
          jobId: job.id,
          taskId,
          stage: "reviews",
          state: "done",
          counters: { pages: 1, reviews_seen: reviews.length, unchanged: diff.unchanged.length },
          children,
        },
      );
      attempt.committed?.();
      const recorded = outcome.versions;

      // a blind page did not look for earlier unpublished versions (`stale`), nor load the bytes
      // whose update time an updated event carries: when it recorded more than first versions (a
      // review it stored on an earlier page and found changed on this one; another pass's, had
      // its lease run out), its reviews' versions are loaded and published in order with them
      if (outcome.stale || (blind && recorded.some((v) => v.version > 1))) {
        // an earlier attempt's versions of these reviews were never published: all of them, in order
        await publishPending(ctx, [...new Set([...stored.values()].map((s) => s.id).concat(recorded.map((v) => v.reviewId)))]);
      } else if (recorded.length > 0) {
        const bytes = new Map<string, Uint8Array>(diff.writes.map((w) => [w.name, w.pb]));
        // a deletion's row was loaded without a fetched hash, so with its bytes
        for (const d of deletions) bytes.set(d.name, d.review_pb!);
        await publishVersions(
          ctx,
          recorded.map((v): OutboxEvent => ({
            reviewId: v.reviewId,
            scopeKey: job.scope_key,
            locationId: task.locationId,
            jobId: job.id,
            tenantId: job.tenant_id,
            clientId: job.client_id,
            name: v.name,
            version: v.version,
            type: EVENT_TYPE[v.type],
            reviewPb: bytes.get(v.name)!,
            // the proto's rule: the update time stored before this change; unset for a created review
            previousUpdateTime:
              v.type === "deleted"
                ? updateTimeOf(bytes.get(v.name))
                : v.type === "updated"
                  ? updateTimeOf(stored.get(v.name)?.review_pb)
                  : undefined,
          })),
        );
        if (job.trigger === "notification") await observeNotificationLatency(ctx, job.id);
      }
      if (outcome.waiters) await handOff(ctx, task.locationId);
      return afterFinish(ctx.db, job.id, outcome, ctx.completion.checkNow(job.id));
    },
  };
}

/** A page's reviews as Google gave them (names deduplicated). */
interface FetchedPage {
  reviews: Review[];
  /** The next page's token, unless this is the pass's last page. */
  nextToken?: string;
  /** A notification's review that Google no longer has: its stored row is read to confirm the deletion. */
  goneName?: string;
}

/** The first page's location is leased by another job's pass: the page waits for it (location_waits). */
class PassParked extends Error {}

/** The page's one Google call: reviews.list, or reviews.get of a notification's one review. */
async function fetchPage(
  ctx: PipelineContext,
  task: FetchReviewsTask,
  job: JobRow,
  attempt: TaskAttempt,
  call: CallOptions,
): Promise<FetchedPage> {
  let reviews: Review[];
  let nextToken: string | undefined;
  let goneName: string | undefined;
  if (task.reviewName) {
    // a notification's one-review pass: reviews.get of the one review, inside the same lease,
    // commit and publishing as a page. Found → compared like a listed review; Google's own
    // 404 → a confirmed deletion (as a full pass confirms one); never the watermark: the
    // location's other reviews were not looked at
    const review = await callGoogle(ctx, job, "reviews.get", attempt, (token) => ctx.source.getReview(token, task.reviewName), call);
    reviews = review && review.name === task.reviewName ? [review] : [];
    if (!review) {
      goneName = task.reviewName;
      ctx.metrics.notifications.inc({ receiver: "fetcher", outcome: "gone" });
    }
  } else {
    const page = await callGoogle(
      ctx,
      job,
      "reviews.list",
      attempt,
      (token) => ctx.source.listReviews(token, task.locationName, { pageToken: task.pageToken }),
      call,
    );
    const seen = new Set<string>();
    reviews = page.items.filter((r) => !seen.has(r.name) && seen.add(r.name));
    const stopAt = job.mode === "incremental" ? task.stopAtUpdateTime : undefined;
    const reachedKnown = stopAt !== undefined && reviews.some((r) => r.updateTime && notAfter(r.updateTime, stopAt));
    nextToken = page.nextPageToken && !reachedKnown ? page.nextPageToken : undefined;
  }
  return { reviews, nextToken, goneName };
}

/** Change-to-event latency: from Pub/Sub's publish time of the notification to its event on REVIEWS. */
async function observeNotificationLatency(ctx: PipelineContext, jobId: string): Promise<void> {
  const publishTime = await notificationPublishTime(ctx.db, jobId).catch(() => undefined);
  if (publishTime) ctx.metrics.notificationLatency.observe(Math.max(0, (Date.now() - publishTime.getTime()) / 1000));
}

/**
 * Asks Google about each deletion candidate (inside the project's quota). Gone (404) → pushed
 * to `deleted`; found → returned, to be compared like any fetched review.
 */
async function confirmDeletions(
  ctx: PipelineContext,
  job: JobRow,
  attempt: TaskAttempt,
  candidates: StoredReviewState[],
  deleted: StoredReviewState[],
): Promise<Review[]> {
  const found: Review[] = [];
  let next = 0;
  const worker = async () => {
    while (next < candidates.length) {
      const candidate = candidates[next++]!;
      const review = await callGoogle(ctx, job, "reviews.get", attempt, (token) => ctx.source.getReview(token, candidate.name));
      if (review) found.push(review);
      else deleted.push(candidate);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONFIRM_CONCURRENCY, candidates.length) }, worker));
  return found;
}
