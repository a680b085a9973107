import { Code, ConnectError, type Client } from "@connectrpc/connect";
import type { SecretBox } from "../../../lib/crypto/index.js";
import { TokenService } from "../../../gen/reviewflow/token/v1/token_service_pb.js";
import type { JobRow } from "../store/job-store.js";
import { TaskFailure } from "./task-errors.js";

/**
 * Google access tokens for jobs, never carried in messages: client and branch jobs ask the
 * TokenService (cached in memory while more than the refresh window is left), raw-token jobs
 * open the token sealed with the job.
 */
export interface Credentials {
  accessToken(job: JobRow): Promise<string>;
  /** After Google answered 401: force one refresh and return the new token. */
  refreshed(job: JobRow): Promise<string>;
}

export interface CredentialsOptions {
  tokenClient: Client<typeof TokenService>;
  secretBox: SecretBox;
  refreshWindowSeconds: number;
}

export function createCredentials(options: CredentialsOptions): Credentials {
  const cache = new Map<string, { token: string; usableUntil: number }>();
  const windowMs = options.refreshWindowSeconds * 1000;

  // concurrent workers of one client share one in-flight ValidateToken call
  const inFlight = new Map<string, Promise<string>>();
  const validate = (clientId: string): Promise<string> => {
    let pending = inFlight.get(clientId);
    if (!pending) {
      pending = fetchToken(clientId).finally(() => inFlight.delete(clientId));
      inFlight.set(clientId, pending);
    }
    return pending;
  };
  const fetchToken = async (clientId: string): Promise<string> => {
    const res = await options.tokenClient.validateToken({ clientId }).catch((err: unknown) => {
      throw tokenServiceFailure(err, clientId);
    });
    const expires = res.expireTime ? Number(res.expireTime.seconds) * 1000 : 0;
    if (cache.size > 10_000) cache.clear();
    cache.set(clientId, { token: res.accessToken, usableUntil: expires - windowMs });
    return res.accessToken;
  };

  const raw = (job: JobRow): string => {
    if (!job.access_token_sealed) {
      throw new TaskFailure("permanent", "FAILED_PRECONDITION", "the job's access token is gone (the job ended)", { jobFatal: true });
    }
    return options.secretBox.open(job.access_token_sealed, job.id);
  };

  return {
    async accessToken(job) {
      if (!job.client_id) return raw(job);
      const cached = cache.get(job.client_id);
      if (cached && cached.usableUntil > Date.now()) return cached.token;
      return validate(job.client_id);
    },
    async refreshed(job) {
      if (!job.client_id) {
        throw new TaskFailure(
          "permanent",
          "UNAUTHENTICATED",
          "Google refused the job's access token (expired or revoked); create a job with a fresh token",
          {
            httpStatus: 401,
            jobFatal: true,
          },
        );
      }
      cache.delete(job.client_id);
      await options.tokenClient.refreshToken({ clientId: job.client_id }).catch((err: unknown) => {
        throw tokenServiceFailure(err, job.client_id!);
      });
      return validate(job.client_id);
    },
  };
}

/** TokenService answers → task failures: re-consent and missing clients end the job; outages retry. */
function tokenServiceFailure(err: unknown, clientId: string): TaskFailure {
  const e = ConnectError.from(err);
  const reason = e.rawMessage.slice(0, 300);
  switch (e.code) {
    case Code.FailedPrecondition:
      // the TokenService's reason already names the client and what to do (consent again, store
      // the secret again): told by the code, shown as it came
      return new TaskFailure(
        "permanent",
        "NEEDS_REAUTH",
        reason || `client ${clientId} has no usable grant: complete the consent flow (StartOAuth)`,
        { jobFatal: true },
      );
    case Code.NotFound:
      return new TaskFailure("permanent", "CLIENT_NOT_FOUND", `client ${clientId} no longer exists`, { jobFatal: true });
    case Code.PermissionDenied:
    case Code.Unauthenticated:
      return new TaskFailure(
        "permanent",
        "TOKEN_SERVICE_REFUSED",
        `the TokenService refused the fetcher's key (SERVICE_API_KEY): ${reason}`,
        { jobFatal: true },
      );
    case Code.InvalidArgument:
      return new TaskFailure("permanent", "INVALID_ARGUMENT", `the TokenService rejected client ${clientId}: ${reason}`, {
        jobFatal: true,
      });
    default:
      return new TaskFailure("transient", "TOKEN_SERVICE_UNAVAILABLE", `the TokenService is unavailable (${Code[e.code]})`);
  }
}
