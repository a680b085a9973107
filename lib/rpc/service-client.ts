import type { DescService } from "@bufbuild/protobuf";
import { createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { HTTP_TIMEOUT_DEFAULTS } from "../config/config.js";

/**
 * A gRPC (h2c) client for another reviewflow service. Services never import each other: they
 * talk over gRPC. `apiKey` is sent as the bearer key on every call unless a call sets its own.
 * `sessions` shares one HTTP/2 connection with other clients of the same service (default: a
 * connection of its own, from `createServiceSessions`).
 */
export function createServiceClient<T extends DescService>(
  service: T,
  baseUrl: string,
  options: { apiKey?: string; interceptors?: Interceptor[]; peerIdleTimeoutMs?: number; sessions?: Http2SessionManager } = {},
): Client<T> {
  const auth: Interceptor = (next) => (req) => {
    if (options.apiKey && !req.header.has("authorization")) req.header.set("authorization", `Bearer ${options.apiKey}`);
    return next(req);
  };
  const transport = createGrpcTransport({
    baseUrl,
    interceptors: [auth, ...(options.interceptors ?? [])],
    sessionManager: options.sessions ?? createServiceSessions(baseUrl, options.peerIdleTimeoutMs),
  });
  return createClient(service, transport);
}

/**
 * The HTTP/2 connection to a service, reopened as needed. It lets go of a connection idle for
 * half the peer's idle timeout (HTTP_IDLE_TIMEOUT_MS, which every port applies), so the peer
 * never closes one just as a call is sent on it.
 */
export function createServiceSessions(baseUrl: string, peerIdleTimeoutMs = HTTP_TIMEOUT_DEFAULTS.idleTimeoutMs): Http2SessionManager {
  return new Http2SessionManager(baseUrl, { idleConnectionTimeoutMs: Math.floor(peerIdleTimeoutMs / 2) });
}
