import type pg from "pg";
import { sessionClient } from "../../lib/db/index.js";
import type { Logger } from "../../lib/log/index.js";

/** The Postgres channel on which any instance announces "this client's tokens changed". */
export const TOKEN_CHANGES_CHANNEL = "reviewflow_token_changes";

export interface InvalidationListener {
  /** Resolves once listening (or after the first failed attempt; it keeps retrying). */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface InvalidationOptions {
  databaseUrl: string;
  logger: Logger;
  /** A client id another (or this) instance changed. */
  onChange(clientId: string): void;
  /** Listening (again): safe to cache. */
  onReady(): void;
  /** Not listening: notifications may be missed, so stop caching. */
  onLost(): void;
}

/**
 * LISTEN on TOKEN_CHANGES_CHANNEL over a dedicated connection (a pooled one would be handed to
 * queries), reconnecting with backoff. Notifications are sent inside the changing transaction
 * (pg_notify), so they arrive only once the change is committed.
 */
export function createInvalidationListener(options: InvalidationOptions): InvalidationListener {
  let client: pg.Client | undefined;
  let stopped = false;
  let retryTimer: NodeJS.Timeout | undefined;
  let delayMs = 500;

  const connect = async (): Promise<void> => {
    if (stopped) return;
    const next = sessionClient(options.databaseUrl);
    let lost = false;
    const onLost = (err?: unknown) => {
      if (lost) return;
      lost = true;
      options.onLost();
      if (client === next) client = undefined;
      next.end().catch(() => undefined);
      if (stopped) return;
      options.logger.warn("token cache invalidation listener lost; caching paused", { err });
      retryTimer = setTimeout(() => void connect(), delayMs);
      retryTimer.unref();
      delayMs = Math.min(delayMs * 2, 30_000);
    };
    next.on("error", onLost);
    next.on("end", () => onLost());
    next.on("notification", (msg) => {
      if (msg.channel === TOKEN_CHANGES_CHANNEL && msg.payload) options.onChange(msg.payload);
    });
    try {
      await next.connect();
      await next.query(`LISTEN ${TOKEN_CHANGES_CHANNEL}`);
      if (stopped) {
        await next.end();
        return;
      }
      client = next;
      delayMs = 500;
      options.onReady();
    } catch (err) {
      onLost(err);
    }
  };

  return {
    start: connect,
    async stop() {
      stopped = true;
      if (retryTimer) clearTimeout(retryTimer);
      const current = client;
      client = undefined;
      options.onLost();
      await current?.end().catch(() => undefined);
    },
  };
}
