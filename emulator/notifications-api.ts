// My Business Notifications API v1 (reference notifications.md): accounts.getNotificationSetting
// and accounts.updateNotificationSetting. One setting per account; PATCH needs updateMask and
// changes only the fields it names (a named field missing from the body is cleared, which is how
// a caller turns notifications off). Topic errors carry Google's reasons: INVALID_PUBSUB_TOPIC
// for a malformed topic or one the Pub/Sub emulator does not have, and
// PUBLISH_PERMISSIONS_MISSING_FOR_PUBSUB_TOPIC for a topic the controls deny publish rights on.
import type { IncomingMessage, ServerResponse } from "node:http";
import { admitApiCall } from "./api-gate.js";
import type { EmulatorContext } from "./context.js";
import { invalidPayload, parseApiBody } from "./api-body.js";
import { readBody } from "./http-io.js";
import { NOTIFICATION_TYPES, type NotificationSetting, parseTopic } from "./notification-settings.js";
import { bindQuery } from "./query-params.js";
import { invalidArgument, notFound, type RpcError, sendApiJson, sendRpcError, unavailable } from "./rpc-errors.js";

const DOMAIN = "mybusinessnotifications.googleapis.com";
const MASK_FIELDS = new Map([
  ["pubsubTopic", "pubsubTopic"],
  ["pubsub_topic", "pubsubTopic"],
  ["notificationTypes", "notificationTypes"],
  ["notification_types", "notificationTypes"],
]);
const BODY_FIELDS = new Map([...MASK_FIELDS, ["name", "name"]]);

function topicError(
  code: 400,
  status: "INVALID_ARGUMENT" | "FAILED_PRECONDITION",
  reason: string,
  message: string,
  topic: string,
): RpcError {
  return {
    code,
    status,
    message,
    details: [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason, domain: DOMAIN, metadata: { pubsub_topic: topic } }],
  };
}

export const invalidTopic = (topic: string) =>
  topicError(400, "INVALID_ARGUMENT", "INVALID_PUBSUB_TOPIC", `Invalid Pub/Sub topic: ${topic}`, topic);

export const publishDenied = (topic: string) =>
  topicError(
    400,
    "FAILED_PRECONDITION",
    "PUBLISH_PERMISSIONS_MISSING_FOR_PUBSUB_TOPIC",
    `mybusiness-api-pubsub@system.gserviceaccount.com needs the Pub/Sub Publisher role on ${topic}.`,
    topic,
  );

export async function getNotificationSetting(
  ctx: EmulatorContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  accountId: string,
): Promise<void> {
  const call = await admitApiCall(ctx, req, res, url, "notificationSetting.get");
  if (!call) return;
  const bound = bindQuery(url, []);
  if ("error" in bound) return sendRpcError(res, bound.error);
  if (!ctx.store.findAccount(accountId)) return sendRpcError(res, notFound());
  sendApiJson(res, ctx.notificationSettings.render(accountId));
}

/** The mask's fields in camelCase, or the error Google gives. */
function parseMask(raw: string | undefined): Set<string> | RpcError {
  if (raw === undefined || raw.trim() === "") return invalidArgument("update_mask", "Field is required");
  const fields = new Set<string>();
  for (const part of raw.split(",").map((p) => p.trim())) {
    const field = MASK_FIELDS.get(part);
    if (!field)
      return invalidArgument("update_mask", `Invalid field mask path "${part}": only pubsub_topic and notification_types can be updated.`);
    fields.add(field);
  }
  return fields;
}

export async function updateNotificationSetting(
  ctx: EmulatorContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  accountId: string,
): Promise<void> {
  const raw = await readBody(req);
  const call = await admitApiCall(ctx, req, res, url, "notificationSetting.update");
  if (!call) return;
  const bound = bindQuery(url, ["updateMask"]);
  if ("error" in bound) return sendRpcError(res, bound.error);
  const fail = (err: RpcError) => sendRpcError(res, err);

  const parsed = parseApiBody(raw, BODY_FIELDS);
  if ("error" in parsed) return fail(parsed.error);
  const { body } = parsed;
  const mask = parseMask(bound.params.get("updateMask"));
  if (!(mask instanceof Set)) return fail(mask);

  const name = `accounts/${accountId}/notificationSetting`;
  if (body.name !== undefined && body.name !== name) return fail(invalidArgument("name", `The name must be ${name}.`));
  if (body.pubsubTopic !== undefined && typeof body.pubsubTopic !== "string") {
    return fail(invalidPayload(`Invalid value at 'notification_setting.pubsub_topic' (TYPE_STRING), ${JSON.stringify(body.pubsubTopic)}`));
  }
  const types = body.notificationTypes ?? [];
  if (!Array.isArray(types)) return fail(invalidPayload("Invalid value at 'notification_setting.notification_types': expected a list."));
  for (const [i, t] of types.entries()) {
    if (typeof t !== "string" || !(NOTIFICATION_TYPES as readonly string[]).includes(t)) {
      return fail(
        invalidPayload(
          `Invalid value at 'notification_setting.notification_types[${i}]' (type.googleapis.com/google.mybusiness.notifications.v1.NotificationSetting.NotificationType), ${JSON.stringify(t)}`,
        ),
      );
    }
  }
  if (!ctx.store.findAccount(accountId)) return fail(notFound());

  const current = ctx.notificationSettings.get(accountId) ?? { pubsubTopic: "", notificationTypes: [] };
  const next: NotificationSetting = {
    pubsubTopic: mask.has("pubsubTopic") ? ((body.pubsubTopic as string | undefined) ?? "") : current.pubsubTopic,
    notificationTypes: mask.has("notificationTypes") ? (types as string[]) : current.notificationTypes,
  };
  if (mask.has("pubsubTopic") && next.pubsubTopic !== "") {
    const topic = next.pubsubTopic;
    if (!parseTopic(topic)) return fail(invalidTopic(topic));
    if (ctx.notifications.isDenied(topic)) return fail(publishDenied(topic));
    let exists: boolean | undefined;
    try {
      exists = await ctx.notifications.topicExists(topic);
    } catch {
      // Google could not check the topic; the caller should retry, as for any 503.
      return fail(unavailable());
    }
    if (exists === false) return fail(invalidTopic(topic));
  }
  ctx.notificationSettings.set(accountId, next);
  sendApiJson(res, ctx.notificationSettings.render(accountId));
}
