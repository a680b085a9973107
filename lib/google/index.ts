export { classifyGoogleError, GoogleApiError, type GoogleErrorKind } from "./google-error.js";
export { createGoogleReviewSource, parseRfc3339, type GoogleSourceOptions } from "./googleapis-source.js";
export type { GoogleAccount, GoogleLocation, Page, PageOptions, ReviewPage, ReviewSource, TokenInfo } from "./review-source.js";
