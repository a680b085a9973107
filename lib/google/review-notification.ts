/**
 * Google's review notification, as Cloud Pub/Sub carries it: the one decoder both receivers (the
 * gateway's push route and the fetcher's pull subscriber) use, so they accept exactly the same
 * messages. Google's observed data is `{"type","location","review"}`; its documentation says
 * review_name / location_name (older v4 docs: reviewName / locationName), so all spellings pass.
 */

/** The review notification types this product acts on (others are acknowledged and ignored). */
export const REVIEW_NOTIFICATION_TYPES = ["NEW_REVIEW", "UPDATED_REVIEW"] as const;
export type ReviewNotificationType = (typeof REVIEW_NOTIFICATION_TYPES)[number];

export interface DecodedNotification {
  messageId: string;
  type: ReviewNotificationType;
  /** `accounts/{a}/locations/{l}`. */
  locationName: string;
  /** `accounts/{a}/locations/{l}/reviews/{r}`, inside `locationName`. */
  reviewName: string;
  /** When Pub/Sub accepted the message; undefined when absent or unreadable. */
  publishTime?: Date;
}

/** Why a message cannot be acted on: `malformed` (unreadable) or `ignored` (a type we do not handle). */
export class NotificationError extends Error {
  constructor(
    readonly kind: "malformed" | "ignored",
    message: string,
  ) {
    super(message);
    this.name = "NotificationError";
  }
}

const LOCATION = /^accounts\/[^/\s]{1,128}\/locations\/[^/\s]{1,128}$/;
const REVIEW = /^(accounts\/[^/\s]{1,128}\/locations\/[^/\s]{1,128})\/reviews\/[^/\s]{1,256}$/;
const MESSAGE_ID = /^[\x21-\x7e]{1,256}$/;

/** A Pub/Sub message's data (the bytes Google published) plus the envelope's id and time. */
export function decodeNotification(input: {
  messageId: unknown;
  data: Uint8Array | string | undefined;
  publishTime?: unknown;
}): DecodedNotification {
  if (typeof input.messageId !== "string" || !MESSAGE_ID.test(input.messageId))
    throw new NotificationError("malformed", "the message has no usable messageId");
  const text =
    typeof input.data === "string"
      ? Buffer.from(input.data, "base64").toString("utf8")
      : Buffer.from(input.data ?? new Uint8Array()).toString("utf8");
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new NotificationError("malformed", "the message data is not JSON");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw new NotificationError("malformed", "the message data is not a JSON object");
  const b = body as Record<string, unknown>;
  const type = firstString(b, ["type", "notificationType", "notification_type"]);
  if (type === undefined) throw new NotificationError("malformed", "the message data has no type");
  if (!(REVIEW_NOTIFICATION_TYPES as readonly string[]).includes(type))
    throw new NotificationError("ignored", `notification type ${type.slice(0, 64)} is not a review notification`);
  const reviewName = firstString(b, ["review", "reviewName", "review_name"]);
  const review = reviewName === undefined ? null : REVIEW.exec(reviewName);
  if (!review) throw new NotificationError("malformed", "the message data has no review name like accounts/{a}/locations/{l}/reviews/{r}");
  const locationName = firstString(b, ["location", "locationName", "location_name"]) ?? review[1]!;
  if (!LOCATION.test(locationName))
    throw new NotificationError("malformed", "the message data's location is not like accounts/{a}/locations/{l}");
  if (locationName !== review[1]) throw new NotificationError("malformed", "the review named is not in the location named");
  const time =
    typeof input.publishTime === "string" ? new Date(input.publishTime) : input.publishTime instanceof Date ? input.publishTime : undefined;
  return {
    messageId: input.messageId,
    type: type as ReviewNotificationType,
    locationName,
    reviewName: reviewName!,
    publishTime: time && Number.isFinite(time.getTime()) ? time : undefined,
  };
}

/**
 * A push request's body: `{"message":{"data","messageId"|"message_id","publishTime"|"publish_time",…},"subscription"}`.
 */
export function decodePushBody(body: unknown): DecodedNotification {
  const message = (body as { message?: unknown } | null)?.message;
  if (typeof message !== "object" || message === null) throw new NotificationError("malformed", "the push body has no message");
  const m = message as Record<string, unknown>;
  if (m.data !== undefined && typeof m.data !== "string") throw new NotificationError("malformed", "the message's data is not base64 text");
  return decodeNotification({
    messageId: m.messageId ?? m.message_id,
    data: (m.data as string | undefined) ?? "",
    publishTime: m.publishTime ?? m.publish_time,
  });
}

function firstString(body: Record<string, unknown>, keys: string[]): string | undefined {
  for (const key of keys) {
    const value = body[key];
    if (typeof value === "string" && value !== "") return value;
  }
  return undefined;
}
