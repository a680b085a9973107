import { randomUUID } from "node:crypto";
import type pg from "pg";
import { sessionClient } from "../../../lib/db/index.js";
import type { Client } from "@connectrpc/connect";
import type { SyncDefaults } from "../../../lib/config/index.js";
import { ConnectionStatus } from "../../../gen/reviewflow/token/v1/resources_pb.js";
import type { TokenService } from "../../../gen/reviewflow/token/v1/token_service_pb.js";
import type { PipelineContext } from "../pipeline/pipeline-context.js";
import { publishRootTask, rootTaskId } from "../pipeline/root-task.js";
import { insertPendingTask } from "../store/task-store.js";
import { createQueuedJob } from "../store/job-status.js";
import { loadPolicies } from "../store/sync-policy-store.js";
import {
  activeScheduledByProject,
  freshnessSummary,
  loadDueLocations,
  loadLocationRates,
  claimPlan,
  loadSyncClients,
  saveDueTimes,
  saveSchedule,
  saveSyncClients,
  setNextFull,
  unscheduleOtherClients,
  type SyncClient,
  type SyncClientRow,
} from "../store/sync-store.js";
import { adaptiveIntervals } from "./adaptive-interval.js";
import { resolvePolicy, type EffectivePolicy } from "./policy.js";

export interface SchedulerOptions {
  databaseUrl: string;
  defaults: SyncDefaults;
  tokenClient: Client<typeof TokenService>;
  /** GOOGLE_QPM: sets how many scheduled passes may wait in line per project (QUEUED_SECONDS of them). */
  projectQpm: number;
  /** How often the client list is read from the TokenService (30 s, or 20 ticks if shorter). */
  clientRefreshMs?: number;
  /** How often intervals are recomputed from the observed rates (a minute, or a quarter of the mean interval if shorter). */
  rateRefreshMs?: number;
  /** Re-checks each scheduled client's notification settings (daily, with the housekeeping). */
  settingReconciler?: { reconcileClient(client: { clientId: string; tenantId: string | null; googleProject: string }): Promise<unknown> };
  /** How often the notification settings are re-checked (default a day). */
  notificationCheckMs?: number;
}

export interface Scheduler {
  start(): void;
  stop(): Promise<void>;
  /** One planning round now, if this instance holds the planner's lock (tests). */
  planOnce(): Promise<boolean>;
  readonly isLeader: boolean;
}

/** pg_advisory_lock key of the planner: one per database, so one per deployment. */
const PLANNER_LOCK = 0x52465343; // "RFSC"
/** Seconds of scheduled work that may wait in line per project: enough to keep the lane busy, short enough that an on-demand job never queues behind a flood. */
const QUEUED_SECONDS = 4;

/**
 * Keeps every connected location fresh without anyone asking. Every instance runs one; exactly
 * one plans at a time: the one holding a Postgres advisory lock on a connection of its own (a
 * crashed or partitioned planner's session ends, its lock with it, and the next instance to
 * try takes over within a tick). State lives in Postgres (each location's next_due_at, each
 * client's next_full_at), so a restart plans where the last planner stopped, not all at once.
 *
 * A round: read the clients from the TokenService (skipping, with the reason, those that need
 * re-consent or are not connected or disabled), start a full pass (reconciliation) for clients
 * whose full interval is up, recompute each location's interval from its rate of changes, and
 * start incremental passes for due locations — at most a few seconds' worth of the schedule
 * lane per project in line at once, so due work flows evenly instead of in bursts, and a
 * location that waits is simply still due next round.
 */
export function createScheduler(ctx: PipelineContext, options: SchedulerOptions): Scheduler {
  const log = ctx.logger.child({ component: "scheduler" });
  const clientRefreshMs = options.clientRefreshMs ?? Math.min(30_000, options.defaults.tickMs * 20);
  const rateRefreshMs = options.rateRefreshMs ?? Math.min(60_000, options.defaults.incrementalEverySeconds * 250);
  let lockClient: pg.Client | undefined;
  let leader = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  let lastClientRefresh = 0;
  let lastRateRefresh = 0;
  let lastNotificationCheck = 0;
  let notificationRound: Promise<void> | undefined;

  async function holdLock(): Promise<boolean> {
    if (lockClient && leader) {
      // still ours while the session lives
      try {
        await lockClient.query("SELECT 1");
        return true;
      } catch {
        await dropLock();
      }
    }
    if (!lockClient) {
      const client = sessionClient(options.databaseUrl, "reviewflow-scheduler");
      client.on("error", () => undefined);
      await client.connect();
      lockClient = client;
    }
    const { rows } = await lockClient.query<{ ok: boolean }>("SELECT pg_try_advisory_lock($1) AS ok", [PLANNER_LOCK]);
    if (rows[0]?.ok && !leader) log.info("planning for the deployment (scheduler lock taken)");
    leader = rows[0]?.ok ?? false;
    ctx.metrics.schedulerLeader.set(leader ? 1 : 0);
    if (leader) lastClientRefresh = lastRateRefresh = 0;
    return leader;
  }

  async function dropLock(): Promise<void> {
    leader = false;
    ctx.metrics.schedulerLeader.set(0);
    const client = lockClient;
    lockClient = undefined;
    await client?.end().catch(() => undefined);
  }

  /** The TokenService's clients: connected ones are scheduled, the others carry the reason. */
  async function refreshClients(): Promise<void> {
    const clients: SyncClient[] = [];
    let pageToken = "";
    do {
      const page = await options.tokenClient.listClients({ pageSize: 500, pageToken });
      for (const c of page.clients) {
        clients.push({
          clientId: c.id,
          tenantId: c.tenantId || null,
          googleProject: c.googleClientId,
          connected: c.status === ConnectionStatus.CONNECTED,
          skipReason: skipReasonOf(c.status),
        });
      }
      pageToken = page.nextPageToken;
    } while (pageToken);
    await saveSyncClients(ctx.db, clients);
  }

  async function planOnce(): Promise<boolean> {
    if (!(await holdLock())) return false;
    const now = Date.now();
    if (now - lastClientRefresh >= clientRefreshMs) {
      await refreshClients().then(
        () => (lastClientRefresh = now),
        (err: unknown) =>
          log.warn("could not read the clients from the TokenService; planning with what is known", {
            err: String((err as Error)?.message ?? err),
          }),
      );
    }
    const clients = await loadSyncClients(ctx.db);
    const policies = await loadPolicies(
      ctx.db,
      clients.map((c) => c.client_id),
    );
    const scheduled: { client: SyncClientRow; policy: EffectivePolicy }[] = [];
    const skipped = new Map<string, number>();
    for (const client of clients) {
      const policy = resolvePolicy(options.defaults, policies.get(client.client_id));
      const reason = !client.connected ? client.skip_reason || "not connected" : !policy.enabled ? "sync disabled" : "";
      if (reason) skipped.set(reasonLabel(reason), (skipped.get(reasonLabel(reason)) ?? 0) + 1);
      else scheduled.push({ client, policy });
    }
    ctx.metrics.syncClientsSkipped.reset();
    for (const [reason, n] of skipped) ctx.metrics.syncClientsSkipped.set({ reason }, n);

    const inLine = await activeScheduledByProject(ctx.db);
    const room = (project: string) => Math.max(1, Math.ceil((options.projectQpm / 60) * QUEUED_SECONDS)) - (inLine.get(project) ?? 0);
    const take = (project: string) => inLine.set(project, (inLine.get(project) ?? 0) + 1);

    // reconciliation: a client's full pass, when its interval is up (a new client at once: it
    // has no locations to keep fresh until one has run)
    for (const { client, policy } of scheduled) {
      if (client.full_running) continue;
      if (client.next_full_at === null && client.has_locations) {
        // spread the first round over the interval instead of starting every client at once
        await setNextFull(ctx.db, client.client_id, new Date(now + Math.random() * policy.fullEverySeconds * 1000), false);
        continue;
      }
      if (client.next_full_at !== null && client.next_full_at.getTime() > now) continue;
      if (room(client.google_project) <= 0) continue;
      await startPass(client, null, "full", "reconciliation");
      take(client.google_project);
      await setNextFull(ctx.db, client.client_id, new Date(now + policy.fullEverySeconds * 1000), true);
    }

    // the slow part of a round (whole-table work: rates, intervals, freshness gauges) runs every
    // rateRefreshMs, not every tick; due locations are planned every tick
    const housekeeping = now - lastRateRefresh >= rateRefreshMs;
    if (housekeeping) {
      await unscheduleOtherClients(
        ctx.db,
        scheduled.map((s) => s.client.client_id),
      );
      await reschedule(scheduled);
      lastRateRefresh = now;
      if (options.settingReconciler && !notificationRound && now - lastNotificationCheck >= (options.notificationCheckMs ?? 86_400_000)) {
        lastNotificationCheck = now;
        // in the background: a round of Google calls in the reconciliation lane must not hold up planning
        const reconciler = options.settingReconciler;
        notificationRound = (async () => {
          for (const { client } of scheduled) {
            await reconciler
              .reconcileClient({ clientId: client.client_id, tenantId: client.tenant_id, googleProject: client.google_project })
              .catch((err: unknown) =>
                log.warn("notification settings not checked", { client_id: client.client_id, err: String((err as Error)?.message ?? err) }),
              );
          }
        })().finally(() => (notificationRound = undefined));
      }
    }

    // incremental passes over due locations, oldest due first, within each project's room
    const byId = new Map(scheduled.map((s) => [s.client.client_id, s]));
    const due = await loadDueLocations(ctx.db, [...byId.keys()], 500);
    const planned: { id: string; nextDueAt: Date }[] = [];
    for (const location of due) {
      const entry = byId.get(location.client_id);
      if (!entry || room(entry.client.google_project) <= 0) continue;
      await startPass(entry.client, location.google_name, "incremental", "schedule");
      take(entry.client.google_project);
      // the next one counts from when this one was due, not from when a busy planner got to it,
      // so passes keep their interval on average (an overdue location is due again at once)
      const interval = (location.interval_seconds ?? entry.policy.incrementalEverySeconds) * 1000;
      planned.push({ id: location.id, nextDueAt: new Date(Math.max(now, location.next_due_at.getTime() + interval)) });
    }
    await saveDueTimes(ctx.db, planned);
    if (housekeeping) await observeFreshness();
    return true;
  }

  async function reschedule(scheduled: { client: SyncClientRow; policy: EffectivePolicy }[]): Promise<void> {
    const locations = await loadLocationRates(
      ctx.db,
      scheduled.map((s) => s.client.client_id),
    );
    const updates: { id: string; intervalSeconds: number; changesPerDay: number; nextDueAt: Date }[] = [];
    for (const { client, policy } of scheduled) {
      const own = locations.filter((l) => l.client_id === client.client_id);
      const seconds = policy.adaptive
        ? adaptiveIntervals(
            own.map((l) => l.changes_per_day),
            {
              meanSeconds: policy.incrementalEverySeconds,
              minSeconds: policy.minIncrementalSeconds,
              maxSeconds: policy.maxIncrementalSeconds,
            },
          )
        : own.map(() => policy.incrementalEverySeconds);
      own.forEach((location, i) => {
        const interval = seconds[i]!;
        // a location never scheduled starts at a random point of its interval (no herd); one
        // whose interval shrank is due no later than the new interval allows
        const lastDue = location.next_due_at?.getTime();
        const nextDue =
          lastDue === undefined ? Date.now() + Math.random() * interval * 1000 : Math.min(lastDue, Date.now() + interval * 1000);
        updates.push({ id: location.id, intervalSeconds: interval, changesPerDay: location.changes_per_day, nextDueAt: new Date(nextDue) });
      });
    }
    await saveSchedule(ctx.db, updates);
  }

  /** A scheduled pass is a job like any other: its row and its root task in one transaction, then the root on FETCH. */
  async function startPass(
    client: SyncClientRow,
    targetLocation: string | null,
    mode: "full" | "incremental",
    trigger: "schedule" | "reconciliation",
  ): Promise<void> {
    const job = await ctx.db.tx(async (sql) => {
      // the fence: whoever plans (a planner that lost its lock mid-round included), one pass per
      // location or client is started, never two
      if (!(await claimPlan(sql, client.client_id, targetLocation))) return undefined;
      const row = await createQueuedJob(sql, {
        id: randomUUID(),
        tenantId: client.tenant_id,
        clientId: client.client_id,
        branchId: null,
        targetLocation,
        scopeKey: client.client_id,
        googleProject: client.google_project,
        accessTokenSealed: null,
        mode,
        requestScope: null,
        requestId: null,
        createdBy: "scheduler",
        locations: targetLocation ? 1 : 0,
        trigger,
      });
      // counted with the job, so the job cannot look finished before its root task ran
      await insertPendingTask(sql, await rootTaskId(sql, row), row.id, targetLocation ? "reviews" : "accounts");
      return row;
    });
    if (!job) return;
    await publishRootTask(ctx, job);
    ctx.metrics.syncPassesPlanned.inc({ trigger });
  }

  async function observeFreshness(): Promise<void> {
    const summary = await freshnessSummary(ctx.db);
    ctx.metrics.syncLocationsOverdue.set(summary.overdue);
    ctx.metrics.syncStalestAge.reset();
    for (const { client_id, age_seconds } of summary.stalest) ctx.metrics.syncStalestAge.set({ client_id }, age_seconds);
  }

  return {
    get isLeader() {
      return leader;
    },
    planOnce,
    start() {
      // SYNC_ENABLED=false switches the scheduler off on this deployment (a client's own
      // `enabled` can only turn its own schedule off)
      if (timer || !options.defaults.enabled) return;
      const tick = () => {
        running = planOnce()
          .catch((err: unknown) => {
            log.warn("planning round failed", { err: String((err as Error)?.message ?? err) });
            return dropLock();
          })
          .finally(() => {
            if (timer) timer = setTimeout(tick, options.defaults.tickMs);
          });
      };
      timer = setTimeout(tick, Math.floor(Math.random() * options.defaults.tickMs));
    },
    async stop() {
      if (timer) clearTimeout(timer);
      timer = undefined;
      await running;
      await notificationRound;
      await dropLock();
    },
  };
}

function skipReasonOf(status: ConnectionStatus): string {
  switch (status) {
    case ConnectionStatus.CONNECTED:
      return "";
    case ConnectionStatus.NEEDS_REAUTH:
      return "needs re-consent: Google refused the refresh token";
    case ConnectionStatus.REVOKED:
      return "needs re-consent: the grant was revoked";
    default:
      return "not connected: no consent has completed yet";
  }
}

/** A metric label from a reason: its words before the colon. */
function reasonLabel(reason: string): string {
  return reason
    .split(":")[0]!
    .trim()
    .replace(/[^a-z-]+/gi, "_");
}
