import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { callerOf, requireRole, tenantScope, WRITE_ROLES } from "../../../lib/auth/index.js";
import { writeAudit } from "../../../lib/db/index.js";
import { InvalidArgumentError } from "../../../lib/errors/index.js";
import type { ReviewFetcher } from "../../../gen/reviewflow/fetcher/v1/fetcher_pb.js";
import {
  LocationFreshnessSchema,
  SyncPolicySchema,
  type LocationFreshness,
  type SyncPolicy,
  type UpdateSyncPolicyRequest,
} from "../../../gen/reviewflow/fetcher/v1/sync_pb.js";
import { managerSql } from "../store/db.js";
import { listLocationFreshness, type LocationFreshnessRow } from "../store/location-freshness-store.js";
import { loadAccountNotifications } from "../store/notification-store.js";
import { loadPolicy, loadSkipReason, updatePolicy } from "../store/sync-policy-store.js";
import { conflictOf, resolvePolicy, type EffectivePolicy, type SyncPolicyPatch } from "../sync/policy.js";
import type { HandlerDeps } from "./handler-deps.js";
import { decodeLocationPageToken, encodeLocationPageToken, locationPageSize } from "./location-page-token.js";
import { visibleClient } from "./visibility.js";

/**
 * GetSyncPolicy / UpdateSyncPolicy: a client's sync policy (any key of the client's tenant reads
 * it, operators and admins change it). ListLocations: how fresh each of a client's locations is.
 * Another tenant's client is NOT_FOUND, like a missing one.
 */
export function syncHandlers(
  deps: HandlerDeps,
): Pick<ServiceImpl<typeof ReviewFetcher>, "getSyncPolicy" | "updateSyncPolicy" | "listLocations"> {
  const { db } = deps;

  const policyMessage = async (clientId: string, policy: EffectivePolicy): Promise<SyncPolicy> =>
    create(SyncPolicySchema, {
      clientId,
      enabled: policy.enabled,
      incrementalEverySeconds: policy.incrementalEverySeconds,
      fullEverySeconds: policy.fullEverySeconds,
      adaptive: policy.adaptive,
      minIncrementalSeconds: policy.minIncrementalSeconds,
      maxIncrementalSeconds: policy.maxIncrementalSeconds,
      usesDefaults: policy.usesDefaults,
      skipReason: await loadSkipReason(db, clientId),
      updateTime: policy.updatedAt ? timestampFromDate(policy.updatedAt) : undefined,
      takeOverNotifications: policy.takeOverNotifications,
      notificationAccounts: (await loadAccountNotifications(db, clientId)).map((a) => ({
        accountName: a.account_name,
        state: a.state,
        pubsubTopic: a.pubsub_topic,
        detail: a.detail,
        checkTime: timestampFromDate(a.checked_at),
      })),
    });

  return {
    async getSyncPolicy(req, ctx) {
      const client = await visibleClient(deps, callerOf(ctx), req.clientId);
      return { policy: await policyMessage(client.id, resolvePolicy(deps.config.sync, await loadPolicy(db, client.id))) };
    },

    async updateSyncPolicy(req, ctx) {
      const caller = callerOf(ctx);
      requireRole(caller, WRITE_ROLES, "change sync policies");
      const client = await visibleClient(deps, caller, req.clientId);
      const patch = patchOf(req);
      if (Object.keys(patch).length === 0 && !req.reset) {
        // nothing to change: no write, no audit entry
        return { policy: await policyMessage(client.id, resolvePolicy(deps.config.sync, await loadPolicy(db, client.id))) };
      }
      const tenantId = client.tenantId || null;
      const row = await deps.dataSource.transaction(async (manager) => {
        const updated = await updatePolicy(managerSql(manager), {
          clientId: client.id,
          tenantId,
          patch,
          reset: req.reset,
          by: caller.keyId,
        });
        // two values the client set contradict each other: refused, and rolled back
        const conflict = conflictOf(updated);
        if (conflict) throw new InvalidArgumentError(conflict);
        await writeAudit(manager, {
          tenantId,
          actor: caller.keyId,
          action: "sync_policy.update",
          targetType: "client",
          targetId: client.id,
          details: { reset: req.reset, set: snakeCase(patch) },
        });
        return updated;
      });
      deps.logger.info("sync policy changed", {
        client_id: client.id,
        by: caller.keyId,
        reset: req.reset,
        fields: Object.keys(snakeCase(patch)),
      });
      return { policy: await policyMessage(client.id, resolvePolicy(deps.config.sync, row)) };
    },

    async listLocations(req, ctx) {
      const caller = callerOf(ctx);
      if (!req.clientId) throw new InvalidArgumentError("client_id is required");
      const after = decodeLocationPageToken(req.pageToken);
      const limit = locationPageSize(req.pageSize);
      const client = await visibleClient(deps, caller, req.clientId);
      const policy = resolvePolicy(deps.config.sync, await loadPolicy(db, client.id));
      const rows = await listLocationFreshness(db, {
        clientId: client.id,
        tenantId: tenantScope(caller),
        defaultIntervalSeconds: policy.incrementalEverySeconds,
        after,
        limit: limit + 1,
      });
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        locations: page.map((row) => toLocationFreshness(row, policy.enabled)),
        nextPageToken: rows.length > limit && last ? encodeLocationPageToken({ googleName: last.google_name, id: last.id }) : "",
      };
    },
  };
}

/** The fields the request sets (proto3 `optional`: absent is undefined). */
function patchOf(req: UpdateSyncPolicyRequest): SyncPolicyPatch {
  const patch: SyncPolicyPatch = {
    enabled: req.enabled,
    incrementalEverySeconds: req.incrementalEverySeconds,
    fullEverySeconds: req.fullEverySeconds,
    adaptive: req.adaptive,
    minIncrementalSeconds: req.minIncrementalSeconds,
    maxIncrementalSeconds: req.maxIncrementalSeconds,
    takeOverNotifications: req.takeOverNotifications,
  };
  return Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined));
}

/** A patch with the proto's field names, for the audit log. */
function snakeCase(patch: SyncPolicyPatch): Record<string, unknown> {
  return Object.fromEntries(Object.entries(patch).map(([key, value]) => [key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), value]));
}

/** A location of a client whose schedule is off has no next pass, and so is never overdue. */
function toLocationFreshness(row: LocationFreshnessRow, scheduled: boolean): LocationFreshness {
  return create(LocationFreshnessSchema, {
    locationId: row.id,
    googleName: row.google_name,
    title: row.title,
    clientId: row.client_id,
    lastPassTime: row.last_pass_at ? timestampFromDate(row.last_pass_at) : undefined,
    lastCompletePassTime: row.last_complete_pass_at ? timestampFromDate(row.last_complete_pass_at) : undefined,
    newestUpdateTime: row.newest_update_time ? timestampFromDate(row.newest_update_time) : undefined,
    nextDueTime: scheduled && row.next_due_at ? timestampFromDate(row.next_due_at) : undefined,
    changesPerDay: row.changes_per_day,
    incrementalEverySeconds: row.interval_seconds,
    overdue: scheduled && row.overdue,
    reviewCount: BigInt(row.review_count),
  });
}
