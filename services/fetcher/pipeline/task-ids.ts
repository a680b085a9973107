import { createHash } from "node:crypto";

/**
 * Deterministic task ids. The same parent run always names its children the same way, so a
 * re-run parent (crash before its commit) republishes under the same Nats-Msg-Id (JetStream
 * drops the copy) and records the same fetch_tasks rows (counted once).
 *
 *   accounts  <job>:a:<page>              page = "first" or a hash of the page token
 *   locations <job>:l:<account id>:<page>
 *   reviews   <job>:r:<location uuid>:<page number>
 */
export function accountsTaskId(jobId: string, pageToken: string): string {
  return `${jobId}:a:${pageKey(pageToken)}`;
}

export function locationsTaskId(jobId: string, accountName: string, pageToken: string): string {
  return `${jobId}:l:${safe(accountName.replace(/^accounts\//, ""))}:${pageKey(pageToken)}`;
}

export function reviewsTaskId(jobId: string, locationId: string, pageNumber: number): string {
  return `${jobId}:r:${locationId}:${pageNumber}`;
}

/** The location of a review page task id, or undefined for other stages' ids. */
export function locationOfReviewsTaskId(taskId: string): string | undefined {
  return /^[^:]+:r:([^:]+):\d+$/.exec(taskId)?.[1];
}

/** The prefix every page task of one location in one job shares. */
export function reviewsTaskPrefix(jobId: string, locationId: string): string {
  return `${jobId}:r:${locationId}:`;
}

/**
 * The Nats-Msg-Id of a task: its id, plus the replay generation once replayed (JetStream
 * would otherwise drop a replay published within the FETCH duplicate window).
 */
export function taskMessageId(taskId: string, generation: number): string {
  return generation > 0 ? `${taskId}#g${generation}` : taskId;
}

/**
 * The Nats-Msg-Id of a parked first page put back on FETCH when its location's lease is handed
 * to its job (`#w<n>`, the n-th hand-off): the original id may still be in the duplicate window.
 */
export function resumedMessageId(taskId: string, resumes: number): string {
  return `${taskId}#w${resumes}`;
}

/** The replay generation a FETCH message was published for (0 for the original or a resumed page). */
export function generationOfMessageId(msgId: string | undefined): number {
  const match = /#g(\d+)$/.exec(msgId ?? "");
  return match ? Number(match[1]) : 0;
}

/** A stable UUID-shaped id from text (dead letters: one per task and generation). */
export function uuidFrom(text: string): string {
  const h = createHash("sha256").update(text).digest("hex");
  // version 5 / RFC 4122 variant bits, so validators that check them accept it
  const variant = ((parseInt(h[16], 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function pageKey(pageToken: string): string {
  return pageToken ? createHash("sha256").update(pageToken).digest("hex").slice(0, 20) : "first";
}

function safe(part: string): string {
  return /^[A-Za-z0-9_-]{1,64}$/.test(part) ? part : createHash("sha256").update(part).digest("hex").slice(0, 20);
}
