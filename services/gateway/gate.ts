import type { DescMethod } from "@bufbuild/protobuf";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { Authenticator, Caller } from "../../lib/auth/index.js";
import type { Logger } from "../../lib/log/index.js";
import { rpcOptions, toConnectError } from "../../lib/rpc/index.js";
import type { RateLimits } from "./rate-limits.js";

/** Set by the edge from the socket (any incoming value is dropped first), read by the gate. */
export const CLIENT_IP_HEADER = "x-reviewflow-gateway-client-ip";

export interface GateRequest {
  /** The RPC called; absent for the gateway's own routes (the console's sign-in), which always want a key. */
  method?: DescMethod;
  authorization: string | null | undefined;
  ip: string;
}

/** Who may pass the gateway, and how often: the one check REST, Connect, gRPC-Web and SSE all go through. */
export interface Gate {
  /** The authenticated caller (undefined for an RPC marked no_api_key); throws UNAUTHENTICATED or RESOURCE_EXHAUSTED. */
  admit(request: GateRequest): Promise<Caller | undefined>;
}

/**
 * API keys are checked here as well as in each service, so a bad key costs the gateway one cached
 * lookup instead of an upstream call, and the limits know whose budget a call spends. Calls
 * without a valid key (public consent pages, wrong keys) spend their client address's budget,
 * which also slows down key guessing.
 */
export function createGate(options: { authenticator: Authenticator; limits: RateLimits; logger: Logger }): Gate {
  return {
    async admit(request) {
      if (request.method && rpcOptions(request.method).noApiKey) {
        await options.limits.consume("ip", request.ip);
        return undefined;
      }
      const match = /^Bearer\s+(\S+)\s*$/i.exec(request.authorization ?? "");
      let caller: Caller | undefined;
      try {
        caller = match ? await options.authenticator.authenticate(match[1]) : undefined;
      } catch (err) {
        // the key store (Postgres) failing is "unavailable", not "unauthenticated"
        throw toConnectError(err, options.logger);
      }
      if (!caller) {
        await options.limits.consume("ip", request.ip);
        throw new ConnectError(
          match ? "invalid or revoked API key" : "missing API key: send `Authorization: Bearer <api key>`",
          Code.Unauthenticated,
        );
      }
      await options.limits.consume("key", caller.keyId);
      if (caller.tenantId) await options.limits.consume("tenant", caller.tenantId);
      return caller;
    },
  };
}

/**
 * The gate for Connect, gRPC and gRPC-Web calls to the proxied services. The gateway's own
 * health and reflection services stay open, as on every service.
 */
export function createGateInterceptor(gate: Gate, proxied: ReadonlySet<string>): Interceptor {
  return (next) => async (req) => {
    if (proxied.has(req.service.typeName)) {
      await gate.admit({
        method: req.method,
        authorization: req.header.get("authorization"),
        ip: req.header.get(CLIENT_IP_HEADER) ?? "unknown",
      });
    }
    return next(req);
  };
}
