/**
 * Why a consent step (OpenLoginLink, CompleteOAuth) failed, as a word a program can read. The
 * TokenService sends it as response metadata beside its error message (which is written for API
 * users); the gateway's consent pages pick what to tell a business owner by it. JSON answers are
 * unchanged: the metadata is not part of the REST error body.
 */
export const CONSENT_FAILURE_METADATA = "reviewflow-consent-failure";

export const CONSENT_FAILURES = [
  /** The login link: never issued, or for another client. */
  "link_unknown",
  "link_used",
  "link_expired",
  /** The OAuth state Google sent back: never issued, already redeemed, or too old. */
  "state_unknown",
  "state_used",
  "state_expired",
  /** Google refused the authorization code (invalid_grant: wrong, expired, used, PKCE mismatch). */
  "code_rejected",
  /** The person did not allow the business.manage scope. */
  "scope_missing",
  /** Google gave no refresh token and none is stored (offline access not granted). */
  "no_refresh_token",
  /** The client's Google credentials or redirect URI are wrong: the operator must fix them. */
  "client_misconfigured",
  /** Google's token endpoint did not answer. */
  "google_unavailable",
] as const;

export type ConsentFailure = (typeof CONSENT_FAILURES)[number];

export function isConsentFailure(value: string | null | undefined): value is ConsentFailure {
  return (CONSENT_FAILURES as readonly string[]).includes(value ?? "");
}
