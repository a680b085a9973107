import type { Review } from "../../gen/reviewflow/reviews/v1/review_pb.js";

/**
 * The narrow view of Google Business Profile the fetcher needs. Only `googleapis-source.ts`
 * knows googleapis, gaxios and Google's wire format; everything else sees these shapes and
 * `GoogleApiError`. Every call takes the access token explicitly (tokens are never stored here)
 * and an optional AbortSignal.
 */
export interface ReviewSource {
  /** One page of the accounts the token's grant can see (Account Management v1). */
  listAccounts(accessToken: string, options?: PageOptions): Promise<Page<GoogleAccount>>;
  /** One page of an account's locations (Business Information v1), named `accounts/{a}/locations/{l}`. */
  listLocations(accessToken: string, accountName: string, options?: PageOptions): Promise<Page<GoogleLocation>>;
  /** One page of a location's reviews, newest update first (My Business v4). */
  listReviews(accessToken: string, locationName: string, options?: PageOptions): Promise<ReviewPage>;
  /** One review by name (v4 reviews.get); undefined when Google answers 404 (the review is gone). */
  getReview(accessToken: string, reviewName: string, options?: { signal?: AbortSignal }): Promise<Review | undefined>;
  /** The account's review-notification setting (My Business Notifications v1). */
  getNotificationSetting(accessToken: string, accountName: string, options?: { signal?: AbortSignal }): Promise<NotificationSetting>;
  /** Replaces the account's topic and types (`updateMask=pubsubTopic,notificationTypes`); answers the setting as Google stored it. */
  updateNotificationSetting(
    accessToken: string,
    setting: NotificationSetting,
    options?: { signal?: AbortSignal },
  ): Promise<NotificationSetting>;
  /** Who a raw access token belongs to (`/tokeninfo`): its OAuth client = its Google project. */
  tokenInfo(accessToken: string, options?: { signal?: AbortSignal }): Promise<TokenInfo>;
}

export interface PageOptions {
  /** The previous page's `nextPageToken`; empty or unset for the first page. */
  pageToken?: string;
  pageSize?: number;
  signal?: AbortSignal;
}

export interface Page<T> {
  items: T[];
  /** Absent on the last page. */
  nextPageToken?: string;
}

export interface ReviewPage extends Page<Review> {
  /** Google's count of the location's reviews, when it reports one. */
  totalReviewCount?: number;
}

export interface GoogleAccount {
  /** `accounts/{a}`. */
  name: string;
  accountName?: string;
  type?: string;
}

export interface GoogleLocation {
  /** The v4 review parent, `accounts/{a}/locations/{l}` (Business Information names it `locations/{l}`). */
  name: string;
  /** The `{l}` part. */
  locationId: string;
  title?: string;
}

export interface TokenInfo {
  /** The OAuth client the token was issued to (`azp`, else `aud`). */
  clientId?: string;
  expiresInSeconds?: number;
  scopes: string[];
}

/** An account's `notificationSetting`: one topic per account, for every location of it. */
export interface NotificationSetting {
  /** `accounts/{a}/notificationSetting`. */
  name: string;
  /** `projects/{p}/topics/{t}`; empty when notifications are off. */
  pubsubTopic: string;
  notificationTypes: string[];
}
