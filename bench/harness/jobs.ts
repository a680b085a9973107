// Driving a fetch job from outside: create it, then wait for it to end while services are being
// broken (a poll that fails because a fetcher or NATS is down is simply retried).
import { JobStatus, type FetchJob } from "../../gen/reviewflow/fetcher/v1/fetcher_pb.js";
import type { FetcherClient } from "./stack.js";

export const TERMINAL: ReadonlySet<JobStatus> = new Set([JobStatus.SUCCEEDED, JobStatus.PARTIAL, JobStatus.FAILED, JobStatus.CANCELLED]);

export function statusName(status: JobStatus): string {
  return JobStatus[status] ?? String(status);
}

export interface WaitOptions {
  timeoutMs: number;
  /** Which fetcher to ask; called per poll so a drill can switch away from a killed instance. */
  client: () => FetcherClient;
  intervalMs?: number;
}

/** Polls GetFetchJob until the job ends; returns the last state seen (not ended on timeout). */
export async function waitForJob(jobId: string, options: WaitOptions): Promise<{ job?: FetchJob; ended: boolean; lastError?: string }> {
  const deadline = Date.now() + options.timeoutMs;
  let job: FetchJob | undefined;
  let lastError: string | undefined;
  while (Date.now() < deadline) {
    try {
      job = (await options.client().getFetchJob({ jobId }, { timeoutMs: 5_000 })).job;
      lastError = undefined;
      if (job && TERMINAL.has(job.status)) return { job, ended: true };
    } catch (err) {
      lastError = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 200));
  }
  return { job, ended: false, lastError };
}
