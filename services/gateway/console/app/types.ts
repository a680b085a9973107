// The REST JSON of the resources the console shows (proto field names; int64 arrive as strings).

export interface Client {
  id: string;
  tenant_id: string;
  name: string;
}

export interface JobCounters {
  accounts: string;
  locations: string;
  pages: string;
  reviews_seen: string;
  created: string;
  updated: string;
  unchanged: string;
  deleted: string;
  retries: string;
  dead_lettered: string;
  tasks_total: string;
  tasks_done: string;
}

export interface FetchJob {
  job_id: string;
  tenant_id: string;
  client_id: string;
  branch_id: string;
  mode: string;
  status: string;
  counters?: JobCounters;
  error: string;
  create_time?: string;
  end_time?: string;
  trigger: string;
}

export interface DeadLetter {
  id: string;
  stage: string;
  job_id: string;
  resource: string;
  error_code: string;
  error_message: string;
  http_status: number;
  attempts: number;
  fail_time?: string;
  replay_time?: string;
}

export interface StageState {
  stage: string;
  paused: boolean;
  pending: string;
  ack_pending: string;
}

export interface LocationFreshness {
  location_id: string;
  google_name: string;
  title: string;
  client_id: string;
  last_pass_time?: string;
  last_complete_pass_time?: string;
  newest_update_time?: string;
  next_due_time?: string;
  changes_per_day: number;
  incremental_every_seconds: number;
  overdue: boolean;
  review_count: string;
}

export interface Review {
  name: string;
  review_id: string;
  reviewer?: { display_name?: string; is_anonymous?: boolean };
  star_rating: number;
  comment?: string;
  create_time?: string;
  update_time?: string;
  reply?: { comment: string; update_time?: string };
  location_name: string;
}

export interface StoredReview {
  review?: Review;
  location_id: string;
  client_id: string;
  last_seen_time?: string;
}

export interface ReviewVersion {
  version: number;
  type: string;
  review?: Review;
  observe_time?: string;
  job_id: string;
}

export const TERMINAL = new Set(["JOB_STATUS_SUCCEEDED", "JOB_STATUS_PARTIAL", "JOB_STATUS_FAILED", "JOB_STATUS_CANCELLED"]);

/** `JOB_STATUS_RUNNING` → `running`: enum names for people. */
export function label(enumName: string | undefined, prefix: string): string {
  if (!enumName) return "";
  return enumName.startsWith(prefix) ? enumName.slice(prefix.length).toLowerCase().replaceAll("_", " ") : enumName;
}

export function when(timestamp: string | undefined): string {
  if (!timestamp) return "—";
  const d = new Date(timestamp);
  return Number.isNaN(d.getTime()) ? timestamp : d.toLocaleString();
}
