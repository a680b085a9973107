import { randomUUID } from "node:crypto";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { callerOf, JOB_ROLES, requireRole, tenantScope, type Caller } from "../../../lib/auth/index.js";
import { jetStreamUnavailable } from "../../../lib/nats/index.js";
import { FailedPreconditionError, ResourceExhaustedError, UnavailableError } from "../../../lib/errors/index.js";
import type { ReviewFetcher } from "../../../gen/reviewflow/fetcher/v1/fetcher_pb.js";
import { publishRootTask, rootTaskId } from "../pipeline/root-task.js";
import { sleep } from "../pipeline/sleep.js";
import { isUniqueViolation } from "../../../lib/db/index.js";
import { countActiveJobs, findJobByRequest, listJobs, loadJob, lockAdmission, type JobRow } from "../store/job-store.js";
import { cancelJob, createQueuedJob } from "../store/job-status.js";
import { isTerminal, modeName, statusName, toFetchJob } from "../store/job-mapper.js";
import { upsertLocations } from "../store/location-store.js";
import { insertPendingTask } from "../store/task-store.js";
import type { HandlerDeps } from "./handler-deps.js";
import { resolveTarget, type JobTarget } from "./job-target.js";
import { decodePageToken, encodePageToken, pageSize } from "./page-token.js";
import { visibleClient, visibleJob } from "./visibility.js";

/** The retry hint when admission is full; jobs usually end within seconds to minutes. */
const ADMISSION_RETRY_AFTER_SECONDS = 5;

type JobMethods = Pick<
  ServiceImpl<typeof ReviewFetcher>,
  "createFetchJob" | "getFetchJob" | "listFetchJobs" | "watchFetchJob" | "cancelFetchJob"
>;

export function jobHandlers(deps: HandlerDeps): JobMethods {
  const { db } = deps;

  const admit = (caller: Caller, target: JobTarget, mode: "incremental" | "full", requestScope: string, requestId: string) =>
    db.tx(async (sql) => {
      // concurrent creates cannot all slip under the bound together
      await lockAdmission(sql);
      if (requestId) {
        const existing = await findJobByRequest(sql, requestScope, requestId);
        if (existing) return existing;
      }
      // the tenant's own bound first: one tenant's jobs (junk or not) can never fill the global
      // bound for everyone else. Jobs of no tenant (an admin's raw token) meet only the global one.
      const active = await countActiveJobs(sql, target.tenantId);
      if (target.tenantId && active.tenant >= deps.config.maxActiveJobsPerTenant) {
        throw new ResourceExhaustedError(
          `${active.tenant} of this tenant's fetch jobs are queued or running (FETCH_MAX_ACTIVE_JOBS_PER_TENANT=${deps.config.maxActiveJobsPerTenant}); retry later`,
          ADMISSION_RETRY_AFTER_SECONDS,
        );
      }
      if (active.total >= deps.config.maxActiveJobs) {
        throw new ResourceExhaustedError(
          `${active.total} fetch jobs are queued or running (FETCH_MAX_ACTIVE_JOBS=${deps.config.maxActiveJobs}); retry later`,
          ADMISSION_RETRY_AFTER_SECONDS,
        );
      }
      const jobId = randomUUID();
      const sealed = target.accessToken ? deps.secretBox.seal(target.accessToken, jobId) : null;
      const job = await createQueuedJob(sql, {
        id: jobId,
        tenantId: target.tenantId,
        clientId: target.clientId,
        branchId: target.branchId,
        targetLocation: target.targetLocation,
        scopeKey: target.scopeKey,
        googleProject: target.googleProject,
        accessTokenSealed: sealed,
        mode,
        requestScope: requestId ? requestScope : null,
        requestId: requestId || null,
        createdBy: caller.keyId,
        locations: target.targetLocation ? 1 : 0,
      });
      if (target.targetLocation) {
        await upsertLocations(sql, { scopeKey: target.scopeKey, tenantId: target.tenantId, clientId: target.clientId }, [
          { name: target.targetLocation, title: target.locationTitle },
        ]);
      }
      // the root task is counted with the job, so the job cannot look finished before it runs
      await insertPendingTask(sql, await rootTaskId(sql, job), jobId, target.targetLocation ? "reviews" : "accounts");
      return job;
    });

  return {
    async createFetchJob(req, ctx) {
      const caller = callerOf(ctx);
      requireRole(caller, JOB_ROLES, "create fetch jobs");
      const requestScope = caller.tenantId ?? "admin";
      if (req.requestId) {
        const existing = await findJobByRequest(db, requestScope, req.requestId);
        if (existing) return created(existing);
      }
      // a job admitted now could not start: with its JetStream quorum gone (NATS servers down),
      // say so at once rather than admit work that waits for the cluster
      const { nats } = deps.pipeline;
      const unavailable = await jetStreamUnavailable(nats.connection, nats.names.fetch.stream, nats.names.fetch.consumer("accounts"));
      if (unavailable)
        throw new UnavailableError(`JetStream cannot take new work now: ${unavailable}. No job was created; retry in a few seconds`);
      const target = await resolveTarget(deps, caller, req);
      let row: JobRow;
      try {
        row = await admit(caller, target, modeName(req.mode), requestScope, req.requestId);
      } catch (err) {
        // the same request_id raced in from elsewhere (unique index): answer with that job
        const existing = isUniqueViolation(err) && req.requestId ? await findJobByRequest(db, requestScope, req.requestId) : undefined;
        if (!existing) throw err;
        row = existing;
      }
      if (!row.root_published && row.status === "QUEUED") {
        // persisted first, published second: if this fails the maintenance sweep publishes it
        await publishRootTask(deps.pipeline, row).catch((err: unknown) =>
          deps.logger.warn("first task not published yet; the sweep will retry", {
            job_id: row.id,
            err: String((err as Error)?.message ?? err),
          }),
        );
      }
      deps.logger.info("fetch job admitted", { job_id: row.id, tenant_id: row.tenant_id, client_id: row.client_id, mode: row.mode });
      return created(row);
    },

    async getFetchJob(req, ctx) {
      return { job: toFetchJob(await visibleJob(db, callerOf(ctx), req.jobId)) };
    },

    async listFetchJobs(req, ctx) {
      const caller = callerOf(ctx);
      const limit = pageSize(req.pageSize);
      const after = decodePageToken(req.pageToken, "uuid");
      // filtering by another tenant's client is NOT_FOUND, as GET /clients/{id} would be
      if (req.clientId) await visibleClient(deps, caller, req.clientId);
      const rows = await listJobs(db, {
        tenantId: tenantScope(caller),
        clientId: req.clientId || undefined,
        status: req.status ? statusName(req.status) : undefined,
        after: after ? { time: after.t, id: after.i } : undefined,
        limit: limit + 1,
      });
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        jobs: page.map(toFetchJob),
        nextPageToken: rows.length > limit && last ? encodePageToken({ t: last.cursor_time, i: last.id }) : "",
      };
    },

    async *watchFetchJob(req, ctx: HandlerContext) {
      let row = await visibleJob(db, callerOf(ctx), req.jobId);
      let last = fingerprint(row);
      yield { job: toFetchJob(row) };
      while (!isTerminal(row.status) && !ctx.signal.aborted) {
        try {
          await sleep(deps.watchIntervalMs, ctx.signal);
        } catch {
          return; // the caller went away
        }
        const next = await loadJob(db, req.jobId);
        if (!next) return;
        row = next;
        const print = fingerprint(row);
        if (print !== last) {
          last = print;
          yield { job: toFetchJob(row) };
        }
      }
    },

    async cancelFetchJob(req, ctx) {
      const caller = callerOf(ctx);
      requireRole(caller, JOB_ROLES, "cancel fetch jobs");
      const row = await visibleJob(db, caller, req.jobId);
      if (row.status !== "CANCELLED") {
        if (isTerminal(row.status)) throw new FailedPreconditionError(`job "${row.id}" already ended (${row.status})`);
        if (!(await cancelJob(db, row.id, caller.keyId))) {
          const now = await visibleJob(db, caller, req.jobId);
          if (now.status !== "CANCELLED") throw new FailedPreconditionError(`job "${row.id}" already ended (${now.status})`);
        }
        deps.logger.info("fetch job cancelled", { job_id: row.id, by: caller.keyId });
      }
      return { job: toFetchJob(await visibleJob(db, caller, req.jobId)) };
    },
  };
}

function created(row: JobRow) {
  const job = toFetchJob(row);
  return { jobId: row.id, status: job.status, job };
}

/** What a watcher sees change: status, counters, error. */
function fingerprint(row: JobRow): string {
  return [
    row.status,
    row.error,
    row.accounts,
    row.locations,
    row.pages,
    row.reviews_seen,
    row.created,
    row.updated,
    row.unchanged,
    row.deleted,
    row.retries,
    row.dead_lettered,
    row.tasks_total,
    row.tasks_done,
  ].join("|");
}
