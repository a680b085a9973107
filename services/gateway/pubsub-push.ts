import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload } from "jose";
import type { NotificationsConfig } from "../../lib/config/index.js";
import { decodePushBody, NotificationError, type DecodedNotification } from "../../lib/google/index.js";
import type { Logger } from "../../lib/log/index.js";
import { handOnNotification, type Nats } from "../../lib/nats/index.js";
import { requestState } from "./edge.js";
import { readJsonBody, RestFailure, sendJson, type HttpRequest, type HttpResponse } from "./http-io.js";
import type { GatewayMetrics } from "./metrics.js";

/** The route Google's push subscription POSTs to (no API key: the OIDC token is the proof). */
export const PUSH_PATH = "/google/pubsub/push";
const ISSUERS = ["accounts.google.com", "https://accounts.google.com"];

/**
 * `POST /google/pubsub/push`: Google's review notifications pushed by a Cloud Pub/Sub push
 * subscription. The bearer token must be a Google-signed OIDC token (RS256 only, against the JWKS
 * at GOOGLE_JWKS_URL, keys cached and refetched on an unknown kid at most every 30 s), issued by
 * accounts.google.com, for PUBSUB_PUSH_AUDIENCE, of the pinned PUBSUB_PUSH_SERVICE_ACCOUNT with a
 * verified email, and in date. Anything else is 401 and nothing is fetched. A verified message is
 * handed on to FETCH (the fetcher makes it a one-review pass) and acknowledged with 204 only once
 * JetStream has stored it; a message that cannot be read is acknowledged too (204: redelivering
 * it would never help) and counted. Without an audience and a service account the route is off.
 */
export function createPubsubPush(deps: {
  notifications: Readonly<NotificationsConfig>;
  nats?: Nats;
  logger: Logger;
  metrics: GatewayMetrics;
  bodyLimitBytes: number;
}) {
  const { notifications, logger, metrics } = deps;
  const log = logger.child({ component: "pubsub-push" });
  const enabled = Boolean(notifications.pushAudience && notifications.pushServiceAccount);
  const jwks = enabled
    ? createRemoteJWKSet(new URL(notifications.jwksUrl), { cooldownDuration: 30_000, cacheMaxAge: 3_600_000, timeoutDuration: 5_000 })
    : undefined;
  const count = (outcome: string) => metrics.notifications.inc({ receiver: "push", outcome });

  async function verify(authorization: string | undefined): Promise<JWTPayload> {
    const match = /^Bearer\s+([A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)\s*$/i.exec(authorization ?? "");
    if (!match) throw new PushRejected("missing or malformed bearer token");
    try {
      const { payload } = await jwtVerify(match[1]!, jwks!, {
        algorithms: ["RS256"],
        issuer: ISSUERS,
        audience: notifications.pushAudience!,
        requiredClaims: ["exp", "iat", "email"],
        clockTolerance: 30,
        maxTokenAge: "2h",
      });
      if (payload.email !== notifications.pushServiceAccount)
        throw new PushRejected("token is not from the configured push service account");
      if (payload.email_verified !== true) throw new PushRejected("token's email is not verified");
      return payload;
    } catch (err) {
      if (err instanceof PushRejected) throw err;
      if (err instanceof joseErrors.JWKSTimeout || (err instanceof Error && /fetch failed|ECONNREFUSED|Expected 200 OK/i.test(err.message)))
        throw new PushUnavailable("the JWKS could not be read");
      // jose's message names the failed check (signature, exp, aud, alg), never the token
      throw new PushRejected(err instanceof joseErrors.JOSEError ? `token refused: ${err.code}` : "token refused");
    }
  }

  return {
    path: PUSH_PATH,
    async handle(req: HttpRequest, res: HttpResponse): Promise<boolean> {
      const path = (req.url ?? "/").split("?")[0];
      if (path !== PUSH_PATH) return false;
      requestState(req).route = PUSH_PATH;
      if (req.method !== "POST") {
        sendJson(res, 405, { code: "method_not_allowed", message: `${PUSH_PATH} takes POST only` }, { allow: "POST" });
        return true;
      }
      if (!enabled) {
        req.resume();
        sendJson(res, 404, {
          code: "not_found",
          message: "Pub/Sub push is off here: set PUBSUB_PUSH_AUDIENCE and PUBSUB_PUSH_SERVICE_ACCOUNT on the gateway to turn it on",
        });
        return true;
      }
      try {
        await verify(req.headers.authorization);
      } catch (err) {
        req.resume();
        if (err instanceof PushUnavailable) {
          count("unavailable");
          log.warn("push token not checked: JWKS unavailable", { jwks_url: notifications.jwksUrl });
          sendJson(res, 503, { code: "unavailable", message: err.message });
        } else {
          count("rejected");
          log.warn("push request refused", { reason: (err as Error).message, ip: requestState(req).ip });
          sendJson(
            res,
            401,
            { code: "unauthenticated", message: (err as Error).message },
            { "www-authenticate": 'Bearer realm="pubsub-push"' },
          );
        }
        return true;
      }
      let notification: DecodedNotification;
      try {
        notification = decodePushBody(await readJsonBody(req, deps.bodyLimitBytes));
      } catch (err) {
        if (err instanceof RestFailure || err instanceof NotificationError) {
          const outcome = err instanceof NotificationError && err.kind === "ignored" ? "ignored" : "malformed";
          count(outcome);
          log.warn("push message acknowledged without action", { outcome, reason: err.message });
          res.writeHead(204);
          res.end();
          return true;
        }
        throw err;
      }
      if (!deps.nats) {
        count("unavailable");
        sendJson(res, 503, { code: "unavailable", message: "the gateway has no NATS connection to hand the notification on" });
        return true;
      }
      let duplicate: boolean;
      try {
        // a redelivery inside FETCH's duplicate window is dropped by JetStream (same message id)
        duplicate = (await handOnNotification(deps.nats, notification, "push")).duplicate;
      } catch (err) {
        // not stored: Pub/Sub redelivers on a non-2xx
        count("unavailable");
        log.warn("notification not handed on; Pub/Sub will redeliver", {
          message_id: notification.messageId,
          err: String((err as Error)?.message ?? err),
        });
        sendJson(res, 503, { code: "unavailable", message: "the notification could not be stored; retry later" });
        return true;
      }
      count(duplicate ? "duplicate" : "accepted");
      res.writeHead(204);
      res.end();
      return true;
    },
  };
}

class PushRejected extends Error {}
class PushUnavailable extends Error {}
