// The test harness's levers, in process. The HTTP control API (control-routes.ts) is a thin
// JSON layer over this object, so both accept and reject exactly the same inputs.
import { type EmulatorContext, validateTtl } from "./context.js";
import { isStarRating } from "./model.js";
import { BUSINESS_SCOPE } from "./oauth-store.js";
import { ControlError, type EmulatorControls, type FaultSpec, type QuotaSetting, type ReviewAdd, type ReviewEdit } from "./types.js";

type Input = Record<string, unknown>;

function asInput(value: unknown): Input {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new ControlError(400, "expected a JSON object");
  return value as Input;
}

function optString(input: Input, key: string): string | undefined {
  const v = input[key];
  if (v === undefined) return undefined;
  if (typeof v !== "string" || v === "") throw new ControlError(400, `${key} must be a non-empty string`);
  return v;
}

function reqString(input: Input, key: string): string {
  const v = optString(input, key);
  if (v === undefined) throw new ControlError(400, `${key} is required`);
  return v;
}

/** A string, or null to remove; undefined leaves the field alone. */
function optNullableText(input: Input, key: string): string | null | undefined {
  const v = input[key];
  if (v === undefined || v === null) return v;
  if (typeof v !== "string") throw new ControlError(400, `${key} must be a string or null`);
  return v;
}

function optStar(input: Input): ReviewEdit["starRating"] {
  const v = input.starRating;
  if (v === undefined) return undefined;
  if (!isStarRating(v)) throw new ControlError(400, "starRating must be ONE, TWO, THREE, FOUR or FIVE");
  return v;
}

function optBool(input: Input, key: string): boolean | undefined {
  const v = input[key];
  if (v !== undefined && typeof v !== "boolean") throw new ControlError(400, `${key} must be a boolean`);
  return v as boolean | undefined;
}

/**
 * Review bodies name their fields exactly: a misspelt flag would otherwise be ignored and the
 * edit would silently do something else. Google's JSON is camelCase, proto JSON (and the token
 * controls) snake_case: both spellings of a known field are accepted (`keep_update_time`).
 */
function onlyKeys(raw: Input, keys: readonly string[]): Input {
  const input: Input = {};
  for (const [key, value] of Object.entries(raw)) input[key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())] = value;
  const unknown = Object.keys(input).find((k) => !keys.includes(k));
  if (unknown !== undefined) throw new ControlError(400, `unknown field ${unknown} (expected ${keys.join(", ")})`);
  return input;
}

const EDIT_KEYS = ["name", "comment", "starRating", "reply", "keepUpdateTime"] as const;
const ADD_KEYS = ["location", "reviewId", "comment", "starRating", "reply", "reviewer"] as const;

/** Google's review ids are URL-safe base64; anything else could not round-trip through a path. */
const REVIEW_ID = /^[A-Za-z0-9_-]{1,200}$/;

function checkEdit(raw: unknown): ReviewEdit {
  const input = onlyKeys(asInput(raw), EDIT_KEYS);
  const edit: ReviewEdit = { name: reqString(input, "name") };
  const comment = optNullableText(input, "comment");
  const reply = optNullableText(input, "reply");
  const starRating = optStar(input);
  if (comment !== undefined) edit.comment = comment;
  if (reply !== undefined) edit.reply = reply;
  if (starRating !== undefined) edit.starRating = starRating;
  if (optBool(input, "keepUpdateTime") === true) edit.keepUpdateTime = true;
  return edit;
}

function checkAdd(raw: unknown): ReviewAdd {
  const input = onlyKeys(asInput(raw), ADD_KEYS);
  const add: ReviewAdd = { location: reqString(input, "location") };
  const reviewId = optString(input, "reviewId");
  if (reviewId !== undefined) {
    if (!REVIEW_ID.test(reviewId)) throw new ControlError(400, "reviewId must be 1-200 characters of A-Z, a-z, 0-9, _ and -");
    add.reviewId = reviewId;
  }
  const comment = optNullableText(input, "comment");
  const reply = optNullableText(input, "reply");
  const starRating = optStar(input);
  if (typeof comment === "string") add.comment = comment;
  if (typeof reply === "string") add.reply = reply;
  if (starRating !== undefined) add.starRating = starRating;
  if (input.reviewer !== undefined) {
    const reviewer = onlyKeys(asInput(input.reviewer), ["displayName", "isAnonymous"]);
    const displayName = optString(reviewer, "displayName");
    const isAnonymous = reviewer.isAnonymous;
    if (isAnonymous !== undefined && typeof isAnonymous !== "boolean")
      throw new ControlError(400, "reviewer.isAnonymous must be a boolean");
    add.reviewer = {};
    if (displayName !== undefined) add.reviewer.displayName = displayName;
    if (isAnonymous !== undefined) add.reviewer.isAnonymous = isAnonymous;
  }
  return add;
}

function checkQuota(raw: unknown): QuotaSetting {
  const input = asInput(raw);
  const setting: QuotaSetting = { perMinute: input.perMinute as number };
  const project = optString(input, "project");
  const api = optString(input, "api");
  if (project !== undefined) setting.project = project;
  if (api !== undefined) setting.api = api;
  return setting;
}

export function createControls(ctx: EmulatorContext): EmulatorControls {
  return {
    stats: () => ctx.stats.snapshot(ctx.quota.maxPerWindow()),
    resetStats() {
      ctx.stats.reset();
      ctx.quota.resetStats();
      ctx.notifications.resetCounters();
    },
    listFaults: () => ctx.faults.list(),
    addFault: (spec) => ctx.faults.add(asInput(spec) as unknown as FaultSpec),
    removeFault: (id) => ctx.faults.remove(id),
    clearFaults: () => ctx.faults.clear(),
    setQuota: (setting) => ctx.quota.setLimit(checkQuota(setting)),
    resetQuotaUsage: () => ctx.quota.resetUsage(),
    // Google notifies additions and edits; it has no notification type for a deletion.
    editReview(edit) {
      const review = ctx.store.editReview(checkEdit(edit));
      ctx.notifications.reviewChanged("UPDATED_REVIEW", review.name);
      return review;
    },
    addReview(add) {
      const review = ctx.store.addReview(checkAdd(add));
      ctx.notifications.reviewChanged("NEW_REVIEW", review.name);
      return review;
    },
    deleteReview: (input) => ctx.store.deleteReview(reqString(asInput(input), "name")),

    expireTokens(raw) {
      const input = asInput(raw);
      const accessToken = optString(input, "access_token");
      const clientId = optString(input, "client_id");
      const filter: { access_token?: string; client_id?: string } = {};
      if (accessToken !== undefined) filter.access_token = accessToken;
      if (clientId !== undefined) filter.client_id = clientId;
      return { expired: ctx.oauth.expireAccess(filter) };
    },

    revokeGrants(raw) {
      const input = asInput(raw);
      const refreshToken = optString(input, "refresh_token");
      const clientId = optString(input, "client_id");
      const filter: { refresh_token?: string; client_id?: string } = {};
      if (refreshToken !== undefined) filter.refresh_token = refreshToken;
      if (clientId !== undefined) filter.client_id = clientId;
      return { revoked: ctx.oauth.revokeGrants(filter) };
    },

    issueTokens(raw) {
      const input = asInput(raw);
      return ctx.oauth.issueDirect(reqString(input, "client_id"), optString(input, "scope") ?? BUSINESS_SCOPE);
    },

    configure(raw) {
      const input = asInput(raw);
      if (input.accessTokenTtlSeconds !== undefined) ctx.config.accessTokenTtlSeconds = validateTtl(input.accessTokenTtlSeconds);
      if (input.autoApprove !== undefined) {
        if (typeof input.autoApprove !== "boolean") throw new ControlError(400, "autoApprove must be a boolean");
        ctx.config.autoApprove = input.autoApprove;
      }
      return { ...ctx.config };
    },

    data: () => ctx.store.summary(),
    notifications: () => ctx.notifications.state(),
    configureNotifications: (input) => ctx.notifications.configure(input),
  };
}
