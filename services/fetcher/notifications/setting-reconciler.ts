import { AckPolicy, DeliverPolicy } from "@nats-io/jetstream";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { decodeMessage } from "../../../lib/nats/index.js";
import { GoogleApiError, type NotificationSetting } from "../../../lib/google/index.js";
import { TokenEventSchema } from "../../../gen/reviewflow/reviews/v1/events_pb.js";
import { ConnectionStatus } from "../../../gen/reviewflow/token/v1/resources_pb.js";
import type { TokenService } from "../../../gen/reviewflow/token/v1/token_service_pb.js";
import { callGoogle, type PipelineContext, type TaskAttempt } from "../pipeline/pipeline-context.js";
import { sleep } from "../pipeline/sleep.js";
import type { JobRow } from "../store/job-store.js";
import { saveAccountNotification, type AccountNotificationState } from "../store/notification-store.js";
import { loadPolicy } from "../store/sync-policy-store.js";

/** The notification types this product asks Google for. */
export const WANTED_TYPES = ["NEW_REVIEW", "UPDATED_REVIEW"];

export interface ReconcileClient {
  clientId: string;
  tenantId: string | null;
  /** The client's Google project: its quota. */
  googleProject: string;
}

export interface AccountOutcome {
  accountName: string;
  state: AccountNotificationState;
  /** The topic the setting names at Google after the check. */
  topic: string;
  /** True when this check patched the setting. */
  patched: boolean;
  detail: string;
}

export interface SettingReconciler {
  /** Checks every account of one client now; resolves with what it found (also stored and counted). */
  reconcileClient(client: ReconcileClient): Promise<AccountOutcome[]>;
  /** Follows TOKEN_EVENTS `connected`: a newly connected client is reconciled at once. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Keeps each connected account's notificationSetting on our topic (GOOGLE_PUBSUB_TOPIC): read it,
 * patch only when it differs, read it back. One topic per account means another deployment or
 * another tool may hold it: a setting naming another topic is reported (log, metric, and the
 * client's sync policy via GetSyncPolicy) and left alone, unless the client's policy says take
 * over. Runs on connect and with the scheduler's daily round; every call is a Google call in the
 * project's quota (reconciliation lane), with the client's token.
 */
export function createSettingReconciler(
  ctx: PipelineContext,
  options: { topic: string | undefined; tokenClient: Client<typeof TokenService> },
): SettingReconciler {
  const log = ctx.logger.child({ component: "notification-reconciler" });
  const stopping = new AbortController();
  let loop: Promise<void> | undefined;
  const attempt: TaskAttempt = { signal: stopping.signal, heartbeat: () => undefined };

  async function reconcileClient(client: ReconcileClient): Promise<AccountOutcome[]> {
    const topic = options.topic;
    if (!topic) return [];
    // callGoogle's view of who calls: the client's token, its project's quota, the reconciliation lane
    const caller = {
      id: `notification-reconciler:${client.clientId}`,
      client_id: client.clientId,
      tenant_id: client.tenantId,
      google_project: client.googleProject,
      trigger: "reconciliation",
      access_token_sealed: null,
    } as unknown as JobRow;
    const policy = await loadPolicy(ctx.db, client.clientId);
    const takeOver = policy?.take_over_notifications === true;
    const accounts: string[] = [];
    let pageToken: string | undefined;
    do {
      const page = await callGoogle(ctx, caller, "accounts.list", attempt, (token) => ctx.source.listAccounts(token, { pageToken }));
      accounts.push(...page.items.map((a) => a.name));
      pageToken = page.nextPageToken;
    } while (pageToken);

    const outcomes: AccountOutcome[] = [];
    for (const accountName of accounts) {
      let outcome: AccountOutcome;
      try {
        outcome = await reconcileAccount(caller, accountName, topic, takeOver);
      } catch (err) {
        const detail = err instanceof GoogleApiError ? `${err.code || err.kind}: ${err.message}` : String((err as Error)?.message ?? err);
        outcome = { accountName, state: "failed", topic: "", patched: false, detail: detail.slice(0, 500) };
      }
      outcomes.push(outcome);
      ctx.metrics.notificationSettings.inc({ outcome: outcome.patched && outcome.state === "ours" ? "patched" : outcome.state });
      if (outcome.state === "foreign")
        log.warn("account's notifications go to another topic; left alone (sync policy take_over_notifications allows replacing it)", {
          client_id: client.clientId,
          account: accountName,
          topic: outcome.topic,
        });
      else if (outcome.state === "failed")
        log.warn("account's notification setting could not be reconciled", {
          client_id: client.clientId,
          account: accountName,
          detail: outcome.detail,
        });
      else if (outcome.patched)
        log.info("account's notification setting set to our topic", {
          client_id: client.clientId,
          account: accountName,
          state: outcome.state,
        });
      await saveAccountNotification(ctx.db, {
        client_id: client.clientId,
        account_name: accountName,
        state: outcome.state,
        pubsub_topic: outcome.topic,
        detail: outcome.detail,
      });
    }
    return outcomes;
  }

  async function reconcileAccount(caller: JobRow, accountName: string, topic: string, takeOver: boolean): Promise<AccountOutcome> {
    const current = await callGoogle(ctx, caller, "notificationSetting.get", attempt, (token) =>
      ctx.source.getNotificationSetting(token, accountName),
    );
    if (current.pubsubTopic === topic && WANTED_TYPES.every((t) => current.notificationTypes.includes(t))) {
      return { accountName, state: "ours", topic, patched: false, detail: "" };
    }
    const foreign = current.pubsubTopic !== "" && current.pubsubTopic !== topic;
    if (foreign && !takeOver) {
      return {
        accountName,
        state: "foreign",
        topic: current.pubsubTopic,
        patched: false,
        detail: `the account's notifications go to ${current.pubsubTopic}, not ${topic}`,
      };
    }
    // keep any other types the account had with our topic; ours added
    const types = current.pubsubTopic === topic ? [...new Set([...current.notificationTypes, ...WANTED_TYPES])] : WANTED_TYPES;
    const wanted: NotificationSetting = { name: `${accountName}/notificationSetting`, pubsubTopic: topic, notificationTypes: types };
    await callGoogle(ctx, caller, "notificationSetting.patch", attempt, (token) => ctx.source.updateNotificationSetting(token, wanted));
    const after = await callGoogle(ctx, caller, "notificationSetting.get", attempt, (token) =>
      ctx.source.getNotificationSetting(token, accountName),
    );
    if (after.pubsubTopic !== topic) {
      return {
        accountName,
        state: "failed",
        topic: after.pubsubTopic,
        patched: true,
        detail: `read back ${after.pubsubTopic || "no topic"} after setting ${topic}`,
      };
    }
    return {
      accountName,
      state: foreign ? "taken_over" : "ours",
      topic,
      patched: true,
      detail: foreign ? `replaced ${current.pubsubTopic}` : "",
    };
  }

  /** A durable consumer of `connected` token events, one per deployment (its work namespace). */
  async function follow(): Promise<void> {
    const names = ctx.nats.names;
    const durable = `notification-reconciler${names.workNamespace ? `-${names.workNamespace}` : ""}`;
    const filter = names.tokenEvents.all.replace(/>$/, "*.connected");
    while (!stopping.signal.aborted) {
      try {
        await ctx.nats.jsm.consumers
          .add(names.tokenEvents.stream, {
            durable_name: durable,
            filter_subject: filter,
            ack_policy: AckPolicy.Explicit,
            deliver_policy: DeliverPolicy.New,
            ack_wait: 60_000_000_000,
            max_deliver: 5,
          })
          .catch(() => undefined);
        const consumer = await ctx.nats.js.consumers.get(names.tokenEvents.stream, durable);
        while (!stopping.signal.aborted) {
          const batch = await consumer.fetch({ max_messages: 1, expires: 1_000 });
          for await (const msg of batch) {
            try {
              const event = decodeMessage(TokenEventSchema, msg.data, msg.headers);
              // TOKEN_EVENTS may carry other deployments' clients (it is shared by name): not ours, not our business
              const client = await options.tokenClient.getClient({ id: event.clientId }).then(
                (res) => res.client,
                (err: unknown) => (ConnectError.from(err).code === Code.NotFound ? undefined : Promise.reject(err)),
              );
              if (client && client.status === ConnectionStatus.CONNECTED) {
                await reconcileClient({ clientId: client.id, tenantId: client.tenantId || null, googleProject: client.googleClientId });
              }
              msg.ack();
            } catch (err) {
              log.warn("reconciling a newly connected client failed; the daily round retries", {
                err: String((err as Error)?.message ?? err),
              });
              msg.term();
            }
          }
        }
      } catch (err) {
        if (stopping.signal.aborted) break;
        log.warn("following token events failed; retrying", { err: String((err as Error)?.message ?? err) });
        await sleep(1_000, stopping.signal).catch(() => undefined);
      }
    }
  }

  return {
    reconcileClient,
    async start() {
      if (!options.topic) return;
      loop ??= follow();
    },
    async stop() {
      stopping.abort();
      await loop;
    },
  };
}
