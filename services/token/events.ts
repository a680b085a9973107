import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { TokenEventSchema, TokenEventType } from "../../gen/reviewflow/reviews/v1/events_pb.js";
import type { Logger } from "../../lib/log/index.js";
import { publishMessage, type Nats, type TokenEventName } from "../../lib/nats/index.js";

export interface TokenEventInput {
  event: TokenEventName;
  clientId: string;
  tenantId: string;
  at: Date;
  expiresAt?: Date;
  reason?: string;
  /** Makes the Nats-Msg-Id deterministic, so a retried publish is stored once. */
  dedupeKey: string;
}

/** Publishes TOKEN_EVENTS (never a token value). */
export interface TokenEvents {
  publish(input: TokenEventInput): Promise<void>;
}

const TYPES: Record<TokenEventName, TokenEventType> = {
  connected: TokenEventType.CONNECTED,
  refreshed: TokenEventType.REFRESHED,
  needs_reauth: TokenEventType.NEEDS_REAUTH,
  revoked: TokenEventType.REVOKED,
};

export function createTokenEvents(nats: Nats, logger: Logger): TokenEvents {
  return {
    async publish(input) {
      try {
        await publishMessage(
          nats.publisher,
          nats.names.tokenEvents.subject(input.clientId, input.event),
          TokenEventSchema,
          {
            type: TYPES[input.event],
            clientId: input.clientId,
            tenantId: input.tenantId,
            expireTime: input.expiresAt ? timestampFromDate(input.expiresAt) : undefined,
            reason: input.reason ?? "",
            eventTime: timestampFromDate(input.at),
          },
          { msgID: `${input.clientId}.${input.event}.${input.dedupeKey}`, timeoutMs: 5_000 },
        );
      } catch (err) {
        // the change is committed already; a lost event must not undo it or fail the call
        logger.warn("token event not published", { client_id: input.clientId, event: input.event, err });
      }
    },
  };
}
