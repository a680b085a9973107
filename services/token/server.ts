import type { ConnectRouter, Interceptor } from "@connectrpc/connect";
import type { DataSource } from "typeorm";
import type { PostgresConnectionOptions } from "typeorm/driver/postgres/PostgresConnectionOptions.js";
import { TokenService } from "../../gen/reviewflow/token/v1/token_service_pb.js";
import { createApiKeyStore } from "../../lib/auth/index.js";
import { requireKeyring, type Config } from "../../lib/config/index.js";
import { createSecretBox } from "../../lib/crypto/index.js";
import type { Logger } from "../../lib/log/index.js";
import { createMetricsRegistry, type Registry } from "../../lib/metrics/index.js";
import type { Nats } from "../../lib/nats/index.js";
import { createRpcServer, createStandardInterceptors } from "../../lib/rpc/index.js";
import { createInvalidationListener } from "./cache-invalidation.js";
import type { TokenServiceDeps } from "./deps.js";
import { createTokenEvents } from "./events.js";
import { createGoogleOAuth, type GoogleOAuth } from "./google-oauth.js";
import { createTokenMetrics } from "./metrics.js";
import { createTokenRoutes } from "./routes.js";
import { systemClock, tokenSettings, type Clock, type TokenSettings } from "./settings.js";
import { createTokenSweeper, type TokenSweeper } from "./sweeper.js";
import { createTokenCache } from "./token-cache.js";
import { createTokenManager } from "./token-manager.js";

/** The sections the TokenService reads: its own, Google's, the keys, every port's HTTP settings, and the gateway's public URL (login links). */
export type TokenServiceConfig = Pick<Config, "postgres" | "google" | "secrets" | "http" | "token"> & {
  gateway: Pick<Config["gateway"], "publicUrl">;
};

export interface TokenServiceOptions {
  config: TokenServiceConfig;
  /** Opened with the token entities (`tokenEntities`) and migrated. */
  dataSource: DataSource;
  nats: Nats;
  logger: Logger;
  metrics?: Registry;
  /** Tests move time forward instead of waiting. */
  clock?: Clock;
  /** Timings beyond what the config carries (state and link lifetimes, cache TTL, cooldowns). */
  settings?: Partial<TokenSettings>;
  /** Only for tests that need a Google the emulator cannot play. */
  google?: GoogleOAuth;
}

export interface TokenServiceInstance {
  routes: (router: ConnectRouter) => void;
  /** The chain the server runs (logging, auth, protovalidate), for hosting `routes` elsewhere. */
  interceptors: Interceptor[];
  deps: TokenServiceDeps;
  sweeper: TokenSweeper;
  /**
   * Starts the cross-instance cache invalidation listener and the sweeper, then listens on `port`
   * (default TOKEN_PORT; 0 = any free one) at HOST; resolves with the bound port.
   */
  start(port?: number): Promise<number>;
  /** Closes the server (draining calls), then stops the sweeper and the listener. */
  stop(): Promise<void>;
}

/** Builds the TokenService: everything wired, nothing listening yet. */
export function createTokenService(options: TokenServiceOptions): TokenServiceInstance {
  const { config, dataSource, logger } = options;
  const settings = tokenSettings(config, options.settings);
  const clock = options.clock ?? systemClock;
  const registry = options.metrics ?? createMetricsRegistry("token");
  const metrics = createTokenMetrics(registry);
  const secretBox = createSecretBox(requireKeyring(config.secrets));
  const google = options.google ?? createGoogleOAuth({ endpoints: config.google.endpoints, timeoutMs: settings.googleTimeoutMs });
  const events = createTokenEvents(options.nats, logger);
  const cache = createTokenCache({ ttlMs: settings.cacheTtlMs });
  const tokens = createTokenManager({ dataSource, secretBox, google, events, cache, clock, settings, logger, metrics });
  const deps: TokenServiceDeps = { dataSource, secretBox, google, events, tokens, cache, clock, settings, logger, metrics };
  const routes = createTokenRoutes(deps);
  const interceptors = createStandardInterceptors({
    logger,
    authenticator: createApiKeyStore({ dataSource, bootstrapAdminKey: config.secrets.adminApiKey }),
  });
  const server = createRpcServer({
    services: [TokenService],
    routes,
    interceptors,
    logger,
    metrics: registry,
    timeouts: config.http.timeouts,
  });
  const sweeper = createTokenSweeper({
    dataSource,
    tokens,
    clock,
    logger,
    metrics,
    intervalMs: settings.sweepIntervalMs,
    refreshWindowMs: settings.refreshWindowMs,
  });
  // listen on the same database the pool uses (tests open per-suite databases)
  const databaseUrl = (dataSource.options as PostgresConnectionOptions).url ?? config.postgres.url;
  const listener = createInvalidationListener({
    databaseUrl,
    logger,
    onChange: (clientId) => cache.evict(clientId),
    onReady: () => cache.enable(),
    onLost: () => cache.disable(),
  });

  let stopped = false;
  return {
    routes,
    interceptors,
    deps,
    sweeper,
    async start(port = config.token.port) {
      await listener.start();
      sweeper.start();
      return server.listen(port, config.http.host);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.close();
      await sweeper.stop();
      await listener.stop();
    },
  };
}
