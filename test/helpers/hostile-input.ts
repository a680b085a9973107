/** Input an attacker sends: shared by the services' tests so every list meets the same forgeries. */

export const NUL = "\u0000";

const VALID_TIME = "2026-01-01T00:00:00.000000Z";
const VALID_UUID = "0b4c6a1e-2f3d-4e5f-8a9b-0c1d2e3f4a5b";
const token = (cursor: unknown) => Buffer.from(JSON.stringify(cursor)).toString("base64url");

/**
 * Page tokens nobody was handed, in the `{t, i}` shape every keyset list uses (and a few that
 * are not even that): each must be INVALID_ARGUMENT, never a query error.
 */
export const FORGED_PAGE_TOKENS: Readonly<Record<string, string>> = {
  'a time Date.parse guesses at ("1")': token({ t: "1", i: VALID_UUID }),
  "an impossible time": token({ t: "2026-13-45T99:99:99.000000Z", i: VALID_UUID }),
  "29 February of a common year": token({ t: "2026-02-29T00:00:00.000000Z", i: VALID_UUID }),
  "an offset Postgres refuses": token({ t: "2026-01-01T00:00:00+23:00", i: VALID_UUID }),
  "an id of no kind": token({ t: VALID_TIME, i: "not-an-id" }),
  "an id past bigint": token({ t: VALID_TIME, i: "99999999999999999999" }),
  "a NUL in the id": token({ t: VALID_TIME, i: `${VALID_UUID}${NUL}` }),
  "JSON null": token(null),
  "a JSON array": token([VALID_TIME, VALID_UUID]),
  "garbage base64": "!!not*base64~~",
  "base64 of no JSON": Buffer.from("\u00ff\u00fe garbage").toString("base64url"),
};

/** Raw access tokens no bearer header can carry: CR/LF (header injection), NUL, emoji, Latin-1, spaces. */
export const JUNK_ACCESS_TOKENS: readonly string[] = [
  "ya29.abcdefgh\r\nX-Injected: 1",
  "ya29.abcdefgh\nX-Injected: 1",
  `ya29.abc${NUL}defgh`,
  "ya29.😀😀😀😀😀😀",
  "ya29.éééééééé",
  "ya29.with spaces inside",
];
