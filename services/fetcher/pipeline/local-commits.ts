/**
 * Which tasks are running in this process, and the moment each commits. A location's review
 * pages run in order: a page is published right before its predecessor commits and then waits
 * for that commit. Polling the database for it (10 ms, 20 ms, … until the predecessor is done)
 * cost several queries per page, and Postgres round trips were the fetcher's largest CPU cost in
 * its profile. When the predecessor runs in this very process, which it nearly always does with
 * one fetcher and often with several, the waiter is woken by the commit itself instead and reads
 * the task's state once. The database stays the authority: a wake-up only says "look now".
 */
export interface LocalCommits {
  /** `taskId` has started running here. */
  begin(taskId: string): void;
  /** `taskId` committed, failed or stopped here: wake whoever waits for it. */
  end(taskId: string): void;
  /** Resolves when `taskId`, running here, ends; undefined when it is not running here. */
  wait(taskId: string): Promise<void> | undefined;
}

export function createLocalCommits(): LocalCommits {
  const running = new Map<string, { ended: Promise<void>; wake: () => void }>();
  return {
    begin(taskId) {
      if (running.has(taskId)) return;
      let wake!: () => void;
      const ended = new Promise<void>((resolve) => (wake = resolve));
      running.set(taskId, { ended, wake });
    },
    end(taskId) {
      const entry = running.get(taskId);
      if (!entry) return;
      running.delete(taskId);
      entry.wake();
    },
    wait: (taskId) => running.get(taskId)?.ended,
  };
}
