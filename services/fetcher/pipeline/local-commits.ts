/**
 * Which tasks are running in this process, and the moment each commits. A location's review
 * pages run in order: a page is published right before its predecessor commits and then waits
 * for that commit. Polling the database for it (10 ms, 20 ms, … until the predecessor is done)
 * cost several queries per page, and Postgres round trips were the fetcher's largest CPU cost in
 * its profile. When the predecessor runs in this very process, which it nearly always does with
 * one fetcher and often with several, the waiter is woken by the commit itself instead. A task
 * whose commit returned has a finished state in the database, so that wake-up needs no read; any
 * other end (a failure, a stop) only says "look now", and the waiter reads the task's state: the
 * database stays the authority.
 */
export interface LocalCommits {
  /** `taskId` has started running here. */
  begin(taskId: string): void;
  /** `taskId` committed (`committed`: its commit statement returned), failed or stopped here: wakes whoever waits for it. */
  end(taskId: string, committed?: boolean): void;
  /**
   * Resolves when `taskId`, running here, ends: true when it committed, false when it ended
   * otherwise. Undefined when it is not running here.
   */
  wait(taskId: string): Promise<boolean> | undefined;
}

export function createLocalCommits(): LocalCommits {
  const running = new Map<string, { ended: Promise<boolean>; wake: (committed: boolean) => void }>();
  return {
    begin(taskId) {
      if (running.has(taskId)) return;
      let wake!: (committed: boolean) => void;
      const ended = new Promise<boolean>((resolve) => (wake = resolve));
      running.set(taskId, { ended, wake });
    },
    end(taskId, committed = false) {
      const entry = running.get(taskId);
      if (!entry) return;
      running.delete(taskId);
      entry.wake(committed);
    },
    wait: (taskId) => running.get(taskId)?.ended,
  };
}
