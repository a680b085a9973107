import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { FetchJobSchema, FetchMode, JobStatus, JobTrigger, type FetchJob } from "../../../gen/reviewflow/fetcher/v1/fetcher_pb.js";
import type { JobRow, JobStatusName, ModeName, TriggerName } from "./job-store.js";

const STATUS: Record<JobStatusName, JobStatus> = {
  QUEUED: JobStatus.QUEUED,
  RUNNING: JobStatus.RUNNING,
  SUCCEEDED: JobStatus.SUCCEEDED,
  PARTIAL: JobStatus.PARTIAL,
  FAILED: JobStatus.FAILED,
  CANCELLED: JobStatus.CANCELLED,
};

const TRIGGER: Record<TriggerName, JobTrigger> = {
  on_demand: JobTrigger.ON_DEMAND,
  schedule: JobTrigger.SCHEDULE,
  reconciliation: JobTrigger.RECONCILIATION,
  notification: JobTrigger.NOTIFICATION,
};

export function statusName(status: JobStatus): JobStatusName | undefined {
  return (Object.keys(STATUS) as JobStatusName[]).find((name) => STATUS[name] === status);
}

export function modeName(mode: FetchMode): ModeName {
  return mode === FetchMode.FULL ? "full" : "incremental";
}

export function isTerminal(status: JobStatusName): boolean {
  return status !== "QUEUED" && status !== "RUNNING";
}

/** The API's view of a job: never the sealed token, only whether there is one. */
export function toFetchJob(row: JobRow): FetchJob {
  return create(FetchJobSchema, {
    jobId: row.id,
    tenantId: row.tenant_id ?? "",
    clientId: row.client_id ?? "",
    branchId: row.branch_id ?? "",
    usesAccessToken: row.client_id === null,
    mode: row.mode === "full" ? FetchMode.FULL : FetchMode.INCREMENTAL,
    status: STATUS[row.status],
    trigger: TRIGGER[row.trigger],
    counters: {
      accounts: BigInt(row.accounts),
      locations: BigInt(row.locations),
      pages: BigInt(row.pages),
      reviewsSeen: BigInt(row.reviews_seen),
      created: BigInt(row.created),
      updated: BigInt(row.updated),
      unchanged: BigInt(row.unchanged),
      deleted: BigInt(row.deleted),
      retries: BigInt(row.retries),
      deadLettered: BigInt(row.dead_lettered),
      tasksTotal: BigInt(row.tasks_total),
      tasksDone: BigInt(row.tasks_done),
    },
    error: row.error,
    createTime: timestampFromDate(row.created_at),
    startTime: row.started_at ? timestampFromDate(row.started_at) : undefined,
    endTime: row.ended_at ? timestampFromDate(row.ended_at) : undefined,
    updateTime: timestampFromDate(row.updated_at),
  });
}
