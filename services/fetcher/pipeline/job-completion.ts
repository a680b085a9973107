/**
 * Which jobs have tasks running in this process, so that the completion check (completeIfDone,
 * one aggregate statement) runs once per burst of a job's tasks instead of after each commit.
 *
 * A job is complete once its last task commits; that task checks after its commit and sees
 * every other commit. A task that commits while another task of its job still runs HERE skips
 * the check and leaves it owed: that other task ends later (committed, failed, handed back or
 * dropped, whatever the path), so the last of the job's local tasks to end runs the owed check,
 * after every local commit. Tasks on other instances check for themselves as before, and the
 * maintenance sweep still checks every active job.
 */
export interface JobCompletion {
  /** A task of `jobId` starts running here. */
  begin(jobId: string): void;
  /** After a task's commit: whether to check now (false: the check is owed to the job's last running task here). */
  checkNow(jobId: string): boolean;
  /** A task of `jobId` ended here: true when it was the last one running and a check is owed (the caller runs it). */
  end(jobId: string): boolean;
}

export function createJobCompletion(): JobCompletion {
  const running = new Map<string, { tasks: number; owed: boolean }>();
  return {
    begin(jobId) {
      const job = running.get(jobId);
      if (job) job.tasks++;
      else running.set(jobId, { tasks: 1, owed: false });
    },
    checkNow(jobId) {
      const job = running.get(jobId);
      // the caller itself is still counted: others run when more than one is
      if (!job || job.tasks <= 1) return true;
      job.owed = true;
      return false;
    },
    end(jobId) {
      const job = running.get(jobId);
      if (!job) return false;
      job.tasks--;
      if (job.tasks > 0) return false;
      running.delete(jobId);
      return job.owed;
    },
  };
}
