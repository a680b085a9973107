import { Counter, Gauge, Histogram, type Registry } from "../../lib/metrics/index.js";
import { STAGES, type Nats } from "../../lib/nats/index.js";

/** The fetcher's Prometheus metrics, registered on the service's own registry. */
export interface FetcherMetrics {
  tasks: Counter<"stage" | "outcome">;
  retries: Counter<"stage">;
  deadLetters: Counter<"stage" | "code">;
  publishes: Counter<"kind">;
  googleRequests: Counter<"endpoint" | "outcome">;
  quotaWaits: Counter;
  quotaWaitSeconds: Histogram;
  quotaPenalties: Counter;
  /** Quota slots granted, by lane (reviewflow_google_quota_used_total). */
  quotaUsed: Counter<"lane">;
  /** Where the lane-use gauge reads at scrape time; the Google quota sets it. */
  quotaLaneUse: { read?: () => Promise<Readonly<Record<string, number>>> };
  jobDuration: Histogram<"status">;
  /** 1 on the instance that plans the schedule (holds the scheduler's lock). */
  schedulerLeader: Gauge;
  syncPassesPlanned: Counter<"trigger">;
  syncClientsSkipped: Gauge<"reason">;
  syncLocationsOverdue: Gauge;
  syncStalestAge: Gauge<"client_id">;
  /** Google review notifications, by receiver (pull, fetcher) and outcome. */
  notifications: Counter<"receiver" | "outcome">;
  /** Pub/Sub publish time of a notification → its event published on REVIEWS. */
  notificationLatency: Histogram;
  /** The reconciler's findings per account check (ours, patched, foreign, taken_over, failed). */
  notificationSettings: Counter<"outcome">;
}

export function createFetcherMetrics(registry: Registry, nats?: Nats): FetcherMetrics {
  const registers = [registry];
  const quotaLaneUse: FetcherMetrics["quotaLaneUse"] = {};
  new Gauge({
    name: "reviewflow_google_quota_lane_use_ratio",
    help: "Each quota lane's recent use (exponentially weighted over GoogleQuota.memoryMs, ~10 s) as a fraction of its Google project's GOOGLE_QPM, summed over projects; a saturated project's lanes add up to ~1.",
    labelNames: ["lane"],
    registers,
    async collect() {
      const use = await quotaLaneUse.read?.().catch(() => undefined);
      for (const [lane, value] of Object.entries(use ?? {})) this.set({ lane }, value);
    },
  });
  if (nats) {
    // read from JetStream at scrape time, so it is right whichever instance is scraped
    new Gauge({
      name: "reviewflow_fetch_consumer_pending",
      help: "Messages waiting for each FETCH stage consumer (num_pending), and delivered but unacknowledged (ack_pending).",
      labelNames: ["stage", "kind"],
      registers,
      async collect() {
        for (const stage of STAGES) {
          const info = await nats.jsm.consumers.info(nats.names.fetch.stream, nats.names.fetch.consumer(stage)).catch(() => undefined);
          if (!info) continue;
          this.set({ stage, kind: "pending" }, info.num_pending);
          this.set({ stage, kind: "ack_pending" }, info.num_ack_pending);
        }
      },
    });
  }
  return {
    tasks: new Counter({
      name: "reviewflow_fetch_tasks_total",
      help: "FETCH tasks handled, by stage and outcome (done, retried, dead_lettered, dropped, deferred).",
      labelNames: ["stage", "outcome"],
      registers,
    }),
    retries: new Counter({
      name: "reviewflow_fetch_retries_total",
      help: "Task attempts retried after a transient failure.",
      labelNames: ["stage"],
      registers,
    }),
    deadLetters: new Counter({
      name: "reviewflow_fetch_dead_letters_total",
      help: "Tasks dead-lettered, by stage and error code.",
      labelNames: ["stage", "code"],
      registers,
    }),
    publishes: new Counter({
      name: "reviewflow_fetch_publishes_total",
      help: "JetStream publishes, by kind (task, review_event, dead_letter).",
      labelNames: ["kind"],
      registers,
    }),
    googleRequests: new Counter({
      name: "reviewflow_fetch_google_requests_total",
      help: "Google API calls, by endpoint and outcome.",
      labelNames: ["endpoint", "outcome"],
      registers,
    }),
    quotaWaits: new Counter({
      name: "reviewflow_fetch_quota_waits_total",
      help: "Google calls that had to wait for a quota slot.",
      registers,
    }),
    quotaWaitSeconds: new Histogram({
      name: "reviewflow_fetch_quota_wait_seconds",
      help: "How long calls that waited for a quota slot waited.",
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60],
      registers,
    }),
    quotaPenalties: new Counter({
      name: "reviewflow_fetch_quota_penalties_total",
      help: "Times a project was held back after Google answered 429.",
      registers,
    }),
    quotaUsed: new Counter({
      name: "reviewflow_google_quota_used_total",
      help: "Google quota slots granted, by lane (on_demand, schedule, reconciliation, notification).",
      labelNames: ["lane"],
      registers,
    }),
    quotaLaneUse,
    jobDuration: new Histogram({
      name: "reviewflow_fetch_job_duration_seconds",
      help: "From admission to end, by final status.",
      labelNames: ["status"],
      buckets: [1, 5, 15, 60, 300, 900, 3600],
      registers,
    }),
    schedulerLeader: new Gauge({
      name: "reviewflow_sync_planner",
      help: "1 on the fetcher instance that plans the sync schedule, 0 on the others.",
      registers,
    }),
    syncPassesPlanned: new Counter({
      name: "reviewflow_sync_passes_planned_total",
      help: "Passes the scheduler started, by trigger (schedule, reconciliation).",
      labelNames: ["trigger"],
      registers,
    }),
    syncClientsSkipped: new Gauge({
      name: "reviewflow_sync_clients_skipped",
      help: "Clients the scheduler skips, by reason (needs re-consent, not connected, sync disabled); set by the planner.",
      labelNames: ["reason"],
      registers,
    }),
    syncLocationsOverdue: new Gauge({
      name: "reviewflow_sync_locations_overdue",
      help: "Scheduled locations more than one interval past due; set by the planner.",
      registers,
    }),
    notifications: new Counter({
      name: "reviewflow_notifications_total",
      help: "Google review notifications, by receiver and outcome: pull accepted/malformed/ignored/unavailable; fetcher received, duplicate, unknown (no connected location), malformed, passes (one-review passes started), coalesced (joined a pass of the same review that had not read it yet), gone (reviews.get found no review).",
      labelNames: ["receiver", "outcome"],
      registers,
    }),
    notificationLatency: new Histogram({
      name: "reviewflow_notification_to_event_seconds",
      help: "From Pub/Sub's publish time of a review notification to its event on REVIEWS.",
      buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
      registers,
    }),
    notificationSettings: new Counter({
      name: "reviewflow_notification_settings_total",
      help: "Accounts' notificationSetting checks by the reconciler, by outcome (ours, patched, foreign: another topic left alone, taken_over, failed).",
      labelNames: ["outcome"],
      registers,
    }),
    syncStalestAge: new Gauge({
      name: "reviewflow_sync_stalest_location_age_seconds",
      help: "Per client, the age of its stalest location's last complete pass; set by the planner.",
      labelNames: ["client_id"],
      registers,
    }),
  };
}
