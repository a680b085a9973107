import { create } from "@bufbuild/protobuf";
import { timestampFromMs, type Timestamp } from "@bufbuild/protobuf/wkt";
import { mybusinessaccountmanagement, type mybusinessaccountmanagement_v1 } from "@googleapis/mybusinessaccountmanagement";
import { mybusinessbusinessinformation, type mybusinessbusinessinformation_v1 } from "@googleapis/mybusinessbusinessinformation";
import { OAuth2Client } from "google-auth-library";
import type { GoogleEndpoints } from "../config/config.js";
import { ReviewSchema, type Review } from "../../gen/reviewflow/reviews/v1/review_pb.js";
import { classifyGoogleError, GoogleApiError } from "./google-error.js";
import type {
  GoogleAccount,
  GoogleLocation,
  NotificationSetting,
  Page,
  PageOptions,
  ReviewPage,
  ReviewSource,
  TokenInfo,
} from "./review-source.js";

export interface GoogleSourceOptions {
  endpoints: Pick<GoogleEndpoints, "accountManagementUrl" | "businessInformationUrl" | "myBusinessUrl" | "tokenInfoUrl"> &
    Partial<Pick<GoogleEndpoints, "notificationsUrl">>;
  /** Per-request timeout; a timeout is a transient failure. */
  timeoutMs?: number;
}

/** Google's documented maxima: accounts 20, locations 100, reviews 50 a page. */
const ACCOUNTS_PAGE = 20;
const LOCATIONS_PAGE = 100;
const REVIEWS_PAGE = 50;
/**
 * Google indents its JSON unless a request says otherwise (`prettyPrint`, a system parameter of
 * every Google API, default true): unindented, a page of 50 reviews is about 15 % fewer bytes
 * to receive (measured on the emulator's pages: 29.2 kB against 34.5 kB).
 */
const COMPACT = { prettyPrint: false } as const;
/** Only what the fetcher uses: Business Information requires a readMask. */
const LOCATION_READ_MASK = "name,title";
const STARS: Record<string, number> = { ONE: 1, TWO: 2, THREE: 3, FOUR: 4, FIVE: 5 };
/**
 * What an `Authorization: Bearer` value may hold (RFC 6750 §2.1 b64token). The HTTP client
 * refuses anything else (CR/LF, NUL, non-Latin-1) with a bare TypeError before a byte is sent,
 * which would otherwise read as a network failure ("Google unavailable, retry").
 */
const BEARER_TOKEN = /^[A-Za-z0-9._~+/-]+=*$/;

/**
 * The ReviewSource on the real Google client libraries, aimed at `endpoints` (Google or the
 * emulator). googleapis retries 429/5xx on its own by default; that is switched off on every
 * call (`retry: false`) because retries belong to JetStream, where they are bounded, backed off
 * and survive a crash.
 */
export function createGoogleReviewSource(options: GoogleSourceOptions): ReviewSource {
  const timeout = options.timeoutMs ?? 30_000;
  const accounts = mybusinessaccountmanagement({ version: "v1", rootUrl: options.endpoints.accountManagementUrl });
  const information = mybusinessbusinessinformation({ version: "v1", rootUrl: options.endpoints.businessInformationUrl });
  const reviewsBase = options.endpoints.myBusinessUrl.replace(/\/+$/, "");
  const tokenInfoUrl = options.endpoints.tokenInfoUrl;
  const notificationsBase = (options.endpoints.notificationsUrl ?? "https://mybusinessnotifications.googleapis.com/").replace(/\/+$/, "");

  // One OAuth2Client per access token (it only carries the bearer value: no refresh token, so it
  // never refreshes on its own); a small map avoids rebuilding one per page.
  const clients = new Map<string, OAuth2Client>();
  const authFor = (accessToken: string): OAuth2Client => {
    if (!BEARER_TOKEN.test(accessToken)) {
      throw new GoogleApiError(
        "permanent",
        0,
        "INVALID_ARGUMENT",
        "the access token holds characters a bearer token cannot (RFC 6750 b64token)",
      );
    }
    let client = clients.get(accessToken);
    if (!client) {
      if (clients.size >= 200) clients.clear();
      client = new OAuth2Client();
      client.setCredentials({ access_token: accessToken });
      clients.set(accessToken, client);
    }
    return client;
  };
  const callOptions = (signal?: AbortSignal) => ({ retry: false, timeout, signal: signal as never });

  return {
    async listAccounts(accessToken, page = {}) {
      try {
        const res = await accounts.accounts.list(
          {
            ...COMPACT,
            pageSize: page.pageSize ?? ACCOUNTS_PAGE,
            pageToken: page.pageToken || undefined,
            auth: authFor(accessToken) as never,
          },
          callOptions(page.signal),
        );
        return pageOf((res.data.accounts ?? []).flatMap(toAccount), res.data.nextPageToken);
      } catch (err) {
        throw classifyGoogleError(err, "accounts.list", page.signal);
      }
    },

    async listLocations(accessToken, accountName, page = {}) {
      try {
        const res = await information.accounts.locations.list(
          {
            ...COMPACT,
            parent: accountName,
            readMask: LOCATION_READ_MASK,
            pageSize: page.pageSize ?? LOCATIONS_PAGE,
            pageToken: page.pageToken || undefined,
            auth: authFor(accessToken) as never,
          },
          callOptions(page.signal),
        );
        return pageOf(
          (res.data.locations ?? []).flatMap((l) => toLocation(accountName, l)),
          res.data.nextPageToken,
        );
      } catch (err) {
        throw classifyGoogleError(err, "locations.list", page.signal);
      }
    },

    async listReviews(accessToken, locationName, page: PageOptions = {}): Promise<ReviewPage> {
      try {
        const res = await authFor(accessToken).request<ListReviewsJson>({
          url: `${reviewsBase}/v4/${locationName}/reviews`,
          params: { ...COMPACT, pageSize: page.pageSize ?? REVIEWS_PAGE, ...(page.pageToken ? { pageToken: page.pageToken } : {}) },
          method: "GET",
          ...callOptions(page.signal),
        });
        const data = res.data ?? {};
        const out: ReviewPage = pageOf(
          (data.reviews ?? []).map((r) => toReview(locationName, r)),
          data.nextPageToken,
        );
        if (typeof data.totalReviewCount === "number") out.totalReviewCount = data.totalReviewCount;
        return out;
      } catch (err) {
        throw classifyGoogleError(err, "reviews.list", page.signal);
      }
    },

    async getReview(accessToken, reviewName, opts = {}): Promise<Review | undefined> {
      // accounts/{a}/locations/{l}/reviews/{r}: the location part becomes the Review's locationName
      const locationName = /^(accounts\/[^/]+\/locations\/[^/]+)\/reviews\/[^/]+$/.exec(reviewName)?.[1];
      if (!locationName) throw new GoogleApiError("permanent", 0, "INVALID_ARGUMENT", "reviews.get: not a review name");
      try {
        const res = await authFor(accessToken).request<ReviewJson>({
          url: `${reviewsBase}/v4/${reviewName}`,
          params: COMPACT,
          method: "GET",
          ...callOptions(opts.signal),
        });
        return toReview(locationName, res.data ?? {}, "reviews.get");
      } catch (err) {
        // Only Google's own NOT_FOUND means "gone": a bare 404 (a wrong base URL, a proxy) must
        // not read as a deletion, so it is classified like any other failure.
        if (!opts.signal?.aborted && isGoogleNotFound(err)) return undefined;
        throw classifyGoogleError(err, "reviews.get", opts.signal);
      }
    },

    async getNotificationSetting(accessToken, accountName, opts = {}): Promise<NotificationSetting> {
      if (!/^accounts\/[^/]+$/.test(accountName))
        throw new GoogleApiError("permanent", 0, "INVALID_ARGUMENT", "notificationSetting.get: not an account name");
      try {
        const res = await authFor(accessToken).request<NotificationSettingJson>({
          url: `${notificationsBase}/v1/${accountName}/notificationSetting`,
          method: "GET",
          ...callOptions(opts.signal),
        });
        return toSetting(accountName, res.data ?? {});
      } catch (err) {
        throw classifyGoogleError(err, "notificationSetting.get", opts.signal);
      }
    },

    async updateNotificationSetting(accessToken, setting, opts = {}): Promise<NotificationSetting> {
      const accountName = /^(accounts\/[^/]+)\/notificationSetting$/.exec(setting.name)?.[1];
      if (!accountName) throw new GoogleApiError("permanent", 0, "INVALID_ARGUMENT", "notificationSetting.patch: not a setting name");
      try {
        const res = await authFor(accessToken).request<NotificationSettingJson>({
          url: `${notificationsBase}/v1/${setting.name}`,
          params: { updateMask: "pubsubTopic,notificationTypes" },
          method: "PATCH",
          data: { name: setting.name, pubsubTopic: setting.pubsubTopic, notificationTypes: setting.notificationTypes },
          ...callOptions(opts.signal),
        });
        return toSetting(accountName, res.data ?? {});
      } catch (err) {
        throw classifyGoogleError(err, "notificationSetting.patch", opts.signal);
      }
    },

    async tokenInfo(accessToken, opts = {}): Promise<TokenInfo> {
      try {
        // google-auth-library's getTokenInfo retries without a timeout; the same POST, bounded
        const res = await authFor(accessToken).transporter.request<Record<string, unknown>>({
          method: "POST",
          url: tokenInfoUrl,
          headers: { "content-type": "application/x-www-form-urlencoded;charset=UTF-8", authorization: `Bearer ${accessToken}` },
          ...callOptions(opts.signal),
        });
        const data = res.data ?? {};
        const clientId = str(data.azp) ?? str(data.aud);
        const expires = Number(data.expires_in);
        return {
          clientId,
          expiresInSeconds: Number.isFinite(expires) ? expires : undefined,
          scopes: (str(data.scope) ?? "").split(" ").filter(Boolean),
        };
      } catch (err) {
        throw classifyGoogleError(err, "tokeninfo", opts.signal);
      }
    },
  };
}

interface ReviewJson {
  name?: string;
  reviewId?: string;
  reviewer?: { displayName?: string; profilePhotoUrl?: string; isAnonymous?: boolean };
  starRating?: string;
  comment?: string;
  createTime?: string;
  updateTime?: string;
  reviewReply?: { comment?: string; updateTime?: string };
}

interface ListReviewsJson {
  reviews?: ReviewJson[];
  nextPageToken?: string;
  totalReviewCount?: number;
}

interface NotificationSettingJson {
  name?: string;
  pubsubTopic?: string;
  notificationTypes?: string[];
}

function toSetting(accountName: string, s: NotificationSettingJson): NotificationSetting {
  return {
    name: s.name || `${accountName}/notificationSetting`,
    pubsubTopic: s.pubsubTopic ?? "",
    notificationTypes: Array.isArray(s.notificationTypes) ? s.notificationTypes.filter((t): t is string => typeof t === "string") : [],
  };
}

function pageOf<T>(items: T[], next: string | null | undefined): Page<T> {
  return next ? { items, nextPageToken: next } : { items };
}

function toAccount(a: mybusinessaccountmanagement_v1.Schema$Account): GoogleAccount[] {
  if (!a.name) return [];
  return [{ name: a.name, accountName: a.accountName ?? undefined, type: a.type ?? undefined }];
}

/** Business Information names a location `locations/{l}`; v4 reviews need `accounts/{a}/locations/{l}`. */
function toLocation(accountName: string, l: mybusinessbusinessinformation_v1.Schema$Location): GoogleLocation[] {
  const locationId = /^locations\/([^/]+)$/.exec(l.name ?? "")?.[1];
  if (!locationId) return [];
  return [{ name: `${accountName}/locations/${locationId}`, locationId, title: l.title ?? undefined }];
}

function toReview(locationName: string, r: ReviewJson, what = "reviews.list"): Review {
  if (!r.name || !r.updateTime) {
    // a review without identity or update time cannot be de-duplicated: treat the page as bad
    throw new GoogleApiError("transient", 200, "DATA_LOSS", `${what}: a review without name or updateTime`);
  }
  const reviewer = r.reviewer ?? {};
  return create(ReviewSchema, {
    name: r.name,
    reviewId: r.reviewId ?? r.name.slice(r.name.lastIndexOf("/") + 1),
    reviewer: {
      displayName: reviewer.displayName || undefined,
      profilePhotoUrl: reviewer.profilePhotoUrl || undefined,
      isAnonymous: reviewer.isAnonymous === true,
    },
    starRating: STARS[r.starRating ?? ""] ?? 0,
    comment: r.comment === undefined ? undefined : r.comment,
    createTime: r.createTime ? parseRfc3339(r.createTime) : undefined,
    updateTime: parseRfc3339(r.updateTime),
    reply:
      r.reviewReply?.comment !== undefined
        ? { comment: r.reviewReply.comment, updateTime: r.reviewReply.updateTime ? parseRfc3339(r.reviewReply.updateTime) : undefined }
        : undefined,
    locationName,
  });
}

/** RFC 3339 with 0–9 fractional digits (Google's output), keeping nanoseconds exactly. */
export function parseRfc3339(text: string): Timestamp {
  return parseUtcFast(text) ?? parseRfc3339General(text);
}

/** `YYYY-MM-DDTHH:MM:SS[.f…]Z`: digit positions, all fixed but the fraction's. */
const FIXED_DIGITS = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18];

/**
 * The form Google writes (UTC, `Z`, 0–9 fractional digits), read from its character codes: three
 * of these per review made the general path (a regular expression, Date.parse, then the
 * milliseconds split again) a visible part of decoding a page. Undefined for anything else
 * (offsets, lower-case, out-of-range fields), which the general path reads or refuses.
 */
function parseUtcFast(text: string): Timestamp | undefined {
  const n = text.length;
  if (n < 20 || n > 30 || text.charCodeAt(n - 1) !== 90 /* Z */) return undefined;
  if (
    text.charCodeAt(4) !== 45 ||
    text.charCodeAt(7) !== 45 ||
    text.charCodeAt(10) !== 84 ||
    text.charCodeAt(13) !== 58 ||
    text.charCodeAt(16) !== 58
  )
    return undefined;
  for (const i of FIXED_DIGITS) if (!isDigit(text.charCodeAt(i))) return undefined;
  let nanos = 0;
  if (n > 20) {
    // ".f{1,9}Z"
    if (text.charCodeAt(19) !== 46 || n < 22) return undefined;
    let scale = 100_000_000;
    for (let i = 20; i < n - 1; i++) {
      const c = text.charCodeAt(i);
      if (!isDigit(c)) return undefined;
      nanos += (c - 48) * scale;
      scale /= 10;
    }
  }
  const two = (at: number) => (text.charCodeAt(at) - 48) * 10 + text.charCodeAt(at + 1) - 48;
  const year = two(0) * 100 + two(2);
  const [month, day, hour, minute, second] = [two(5), two(8), two(11), two(14), two(17)];
  // an impossible day (Feb 30) or a leap second: the general path decides, as it always did
  if (year < 100 || month < 1 || month > 12 || day < 1 || day > 28 + (month === 2 ? 0 : 2) || hour > 23 || minute > 59 || second > 59)
    return undefined;
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  // a message as create(TimestampSchema) builds it, without the reflection
  return { $typeName: "google.protobuf.Timestamp", seconds: BigInt(ms / 1000), nanos };
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function parseRfc3339General(text: string): Timestamp {
  const match = /^(.*T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/i.exec(text);
  const ms = Date.parse(match ? `${match[1]}${match[3]}` : text);
  if (!Number.isFinite(ms)) throw new GoogleApiError("transient", 200, "DATA_LOSS", "reviews.list: an unreadable timestamp");
  const ts = timestampFromMs(ms);
  if (match?.[2]) ts.nanos = Number(match[2].padEnd(9, "0"));
  return ts;
}

/** A 404 whose body is Google's `{"error": {"status": "NOT_FOUND"}}` (reference §1.3, reviews.get). */
function isGoogleNotFound(err: unknown): boolean {
  const response = (err as { response?: { status?: unknown; data?: unknown } } | null)?.response;
  if (response?.status !== 404) return false;
  let body = response.data;
  if (typeof body === "string") {
    try {
      body = JSON.parse(body);
    } catch {
      return false;
    }
  }
  const error = (body as { error?: { status?: unknown } } | null)?.error;
  return typeof error === "object" && error !== null && error.status === "NOT_FOUND";
}

function str(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}
