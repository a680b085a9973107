import type { DescService } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import type { DataSource } from "typeorm";
import { ReviewFetcher } from "../../gen/reviewflow/fetcher/v1/fetcher_pb.js";
import { TokenService } from "../../gen/reviewflow/token/v1/token_service_pb.js";
import { createApiKeyStore, createConsoleSessionStore, type Authenticator } from "../../lib/auth/index.js";
import type { Config } from "../../lib/config/index.js";
import type { Logger } from "../../lib/log/index.js";
import type { Nats } from "../../lib/nats/index.js";
import { collectRestRoutes } from "../../lib/rest/index.js";
import { createRpcServer } from "../../lib/rpc/index.js";
import { createConsoleRoutes } from "./console/routes.js";
import { createSessionAuth } from "./console/session-auth.js";
import { createCors } from "./cors.js";
import { createEdge } from "./edge.js";
import { createGate, createGateInterceptor } from "./gate.js";
import { sendJson } from "./http-io.js";
import { createGatewayMetrics, type GatewayMetrics } from "./metrics.js";
import { createOAuthPages } from "./oauth-pages.js";
import { buildGatewayOpenApi } from "./openapi-doc.js";
import { createOpsRoutes } from "./ops-routes.js";
import { createProxyRoutes } from "./proxy-routes.js";
import { createPubsubPush } from "./pubsub-push.js";
import { createRateLimits } from "./rate-limits.js";
import { createReadiness } from "./readiness.js";
import { createRestHandler } from "./rest-handler.js";
import { createUpstream } from "./upstream.js";

/** The sections the gateway reads: its own, where the services are, the bootstrap key, notifications (the push route), every port's HTTP settings. */
export type GatewayServiceConfig = Pick<Config, "gateway" | "secrets" | "notifications" | "http"> & {
  token: Pick<Config["token"], "url">;
  fetcher: Pick<Config["fetcher"], "url">;
};

export interface GatewayServiceOptions {
  config: GatewayServiceConfig;
  /** Postgres: API keys (and the shared limiter counters with GATEWAY_RATE_STORE=postgres). */
  dataSource: DataSource;
  /** Checked by /ready, and where Pub/Sub push notifications are handed on (without it push answers 503). */
  nats?: Nats;
  logger: Logger;
  /** Defaults: gRPC clients at TOKEN_SERVICE_URL / FETCHER_SERVICE_URL, carrying no key of their own. */
  tokenClient?: Client<typeof TokenService>;
  fetcherClient?: Client<typeof ReviewFetcher>;
  /** Defaults to the API keys in `dataSource` plus ADMIN_API_KEY. */
  authenticator?: Authenticator;
  metrics?: GatewayMetrics;
}

export interface GatewayServiceInstance {
  /** Listens on `port` (default GATEWAY_PORT; 0 = any free one) at HOST; resolves with the bound port. */
  start(port?: number): Promise<number>;
  /** Stops accepting, lets in-flight requests finish (streams are cut at the grace limit), closes. */
  stop(): Promise<void>;
  readonly metrics: GatewayMetrics;
  readonly openApi: Record<string, unknown>;
}

/**
 * The Connect gateway on one port, HTTP/1.1 and h2c: every RPC of TokenService and ReviewFetcher
 * over Connect, gRPC and gRPC-Web (a generic proxy), the REST routes of their `google.api.http`
 * annotations (a generic transcoder), job progress as Server-Sent Events, the browser consent
 * pages, and /health, /ready, /metrics, /openapi.json. Returns the server unstarted.
 */
export function createGatewayService(deps: GatewayServiceOptions): GatewayServiceInstance {
  const { config, logger } = deps;
  const metrics = deps.metrics ?? createGatewayMetrics();
  const services: DescService[] = [TokenService, ReviewFetcher];
  const upstream = createUpstream({
    targets: [
      { service: TokenService, baseUrl: config.token.url, client: deps.tokenClient },
      { service: ReviewFetcher, baseUrl: config.fetcher.url, client: deps.fetcherClient },
    ],
    peerIdleTimeoutMs: config.http.timeouts.idleTimeoutMs,
    logger,
  });
  const limits = createRateLimits({
    perKey: config.gateway.ratePerKey,
    perTenant: config.gateway.ratePerTenant,
    perIp: config.gateway.ratePerIp,
    store: config.gateway.rateStore,
    dataSource: deps.dataSource,
    logger,
    onLimited: (scope) => metrics.limited.inc({ scope }),
  });
  // console sign-ins: one store, so this instance's key checks forget a session the moment it signs out
  const sessions = createConsoleSessionStore({
    dataSource: deps.dataSource,
    ttlMs: config.gateway.consoleSessionTtlMs,
    allowBootstrapAdmin: config.secrets.adminApiKey !== undefined,
  });
  const gate = createGate({
    authenticator:
      deps.authenticator ?? createApiKeyStore({ dataSource: deps.dataSource, bootstrapAdminKey: config.secrets.adminApiKey, sessions }),
    limits,
    logger,
  });
  const routes = collectRestRoutes(services);
  const openApi = buildGatewayOpenApi(routes, config.gateway.publicUrl);
  const rest = createRestHandler({
    routes,
    upstream,
    gate,
    sessionAuth: createSessionAuth(sessions),
    oauthPages: createOAuthPages({ upstream, timeoutMs: config.gateway.upstreamTimeoutMs }),
    metrics,
    logger,
    bodyLimitBytes: config.gateway.bodyLimitBytes,
    timeoutMs: config.gateway.upstreamTimeoutMs,
    sseKeepAliveMs: config.gateway.sseKeepAliveMs,
  });
  const consoleRoutes = createConsoleRoutes({
    gate,
    sessions,
    publicUrl: config.gateway.publicUrl,
    ttlMs: config.gateway.consoleSessionTtlMs,
    bodyLimitBytes: config.gateway.bodyLimitBytes,
    logger,
  });
  let closing = false;
  const ops = createOpsRoutes({
    readiness: createReadiness({
      dataSource: deps.dataSource,
      nats: deps.nats,
      upstreams: [
        { name: "token_service", service: TokenService.typeName, baseUrl: config.token.url },
        { name: "review_fetcher", service: ReviewFetcher.typeName, baseUrl: config.fetcher.url },
      ],
      timeoutMs: 2_000,
      peerIdleTimeoutMs: config.http.timeouts.idleTimeoutMs,
    }),
    openApi,
    isClosing: () => closing,
  });

  const push = createPubsubPush({
    notifications: config.notifications,
    nats: deps.nats,
    logger,
    metrics,
    bodyLimitBytes: config.gateway.bodyLimitBytes,
  });

  const rpcPaths = new Set(["/metrics", ...services.flatMap((s) => s.methods.map((m) => `/${s.typeName}/${m.name}`))]);
  const server = createRpcServer({
    services,
    routes: createProxyRoutes({ upstream, timeoutMs: config.gateway.upstreamTimeoutMs }),
    interceptors: [createGateInterceptor(gate, new Set(services.map((s) => s.typeName)))],
    logger,
    metrics: metrics.registry,
    readMaxBytes: config.gateway.bodyLimitBytes,
    timeouts: config.http.timeouts,
    wrapHandler: createEdge({
      cors: createCors(config.gateway.corsOrigins),
      metrics,
      logger,
      bodyLimitBytes: config.gateway.bodyLimitBytes,
      rpcPaths,
    }),
    fallback: (req, res) => {
      void (async () => {
        if (await push.handle(req, res)) return;
        if (await ops(req, res)) return;
        if (await consoleRoutes(req, res)) return;
        if (await rest.handle(req, res)) return;
        const path = (req.url ?? "/").split("?")[0];
        sendJson(res, 404, { code: "not_found", message: `no route for ${req.method} ${path}; see /openapi.json` });
      })().catch((err: unknown) => {
        logger.error("unhandled gateway error", { err });
        if (!res.headersSent) sendJson(res, 500, { code: "internal", message: "internal error" });
        else res.end();
      });
    },
  });

  return {
    metrics,
    openApi,
    start: (port = config.gateway.port) => server.listen(port, config.http.host),
    async stop() {
      if (closing) return;
      closing = true;
      // event streams would otherwise hold the close until the grace period cuts them
      await rest.endStreams();
      await server.close();
    },
  };
}
