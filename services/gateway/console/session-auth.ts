// How a browser's session cookie becomes the caller's credential on the gateway's REST routes.
// The cookie stands for the API key it was exchanged for (lib/auth/console-sessions.ts); calls
// that change something must also carry the session's CSRF token in X-CSRF-Token, because a
// cookie, unlike an Authorization header, is sent by the browser on its own.
import { Code } from "@connectrpc/connect";
import { csrfMatches, isSessionToken, type ConsoleSessionStore } from "../../../lib/auth/index.js";
import { restError } from "../../../lib/rest/index.js";
import { RestFailure, type HttpRequest } from "../http-io.js";

export const SESSION_COOKIE = "rf_session";
export const CSRF_HEADER = "x-csrf-token";

export interface SessionAuth {
  /**
   * The Authorization value a REST call goes on with: its own header when it has one (a header
   * cannot be forged cross-site), else `Bearer <session token>` from the cookie. A state-changing
   * call on a cookie without the session's CSRF token, or sent cross-site, is refused with 403.
   * Undefined when the request carries neither.
   */
  authorization(req: HttpRequest, stateChanging: boolean): Promise<string | undefined>;
}

export function createSessionAuth(sessions: ConsoleSessionStore): SessionAuth {
  return {
    async authorization(req, stateChanging) {
      const own = header(req, "authorization");
      if (own) return own;
      const token = sessionTokenOf(req);
      if (!token) return undefined;
      if (stateChanging) {
        const session = await sessions.lookup(token);
        // an unknown or ended session falls through to the gate, which answers 401 and spends the address's budget
        if (session && (header(req, "sec-fetch-site") === "cross-site" || !csrfMatches(session, header(req, CSRF_HEADER)))) {
          throw new RestFailure(
            restError(
              403,
              Code.PermissionDenied,
              `a call that changes something needs the console session's ${CSRF_HEADER} header, from the console's own page`,
            ),
          );
        }
      }
      return `Bearer ${token}`;
    },
  };
}

/** The session token of the request's cookie, if it has a well-formed one. */
export function sessionTokenOf(req: HttpRequest): string | undefined {
  const cookies = header(req, "cookie");
  if (!cookies) return undefined;
  for (const part of cookies.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) {
      const value = part.slice(eq + 1).trim();
      return isSessionToken(value) ? value : undefined;
    }
  }
  return undefined;
}

export function header(req: HttpRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
