export { classifyGoogleError, GoogleApiError, type GoogleErrorKind } from "./google-error.js";
export { createGoogleReviewSource, parseRfc3339, type GoogleSourceOptions } from "./googleapis-source.js";
export type {
  GoogleAccount,
  GoogleLocation,
  NotificationSetting,
  Page,
  PageOptions,
  ReviewPage,
  ReviewSource,
  TokenInfo,
} from "./review-source.js";
export {
  decodeNotification,
  decodePushBody,
  NotificationError,
  REVIEW_NOTIFICATION_TYPES,
  type DecodedNotification,
  type ReviewNotificationType,
} from "./review-notification.js";
