import type { DescMethod, DescService, Message } from "@bufbuild/protobuf";
import { Code, ConnectError, type CallOptions } from "@connectrpc/connect";
import { CONSENT_FAILURE_METADATA } from "../../lib/consent/failures.js";
import type { Logger } from "../../lib/log/index.js";
import {
  createGrpcUnaryClient,
  createServiceClient,
  createServiceSessions,
  toConnectError,
  type GrpcUnaryClient,
} from "../../lib/rpc/index.js";
import { forwardableDeadline } from "../../lib/rpc/deadline.js";

/** Anything with one function per RPC, named by `localName`: a Connect `Client<S>` of any service. */
type AnyClient = Record<string, (input: Message, options?: CallOptions) => unknown>;

/** Caller headers that travel upstream: the caller's own credentials and the request id. Nothing else. */
const FORWARDED_HEADERS = ["authorization", "x-request-id"];
/** Upstream error metadata worth passing back to the caller (the consent reason is for the consent pages); the rest is protocol noise. */
const RETURNED_METADATA = ["retry-after", CONSENT_FAILURE_METADATA];

export interface Upstream {
  /** The services proxied, in the order routes are registered. */
  readonly services: readonly DescService[];
  unary(method: DescMethod, input: Message, call: UpstreamCall): Promise<Message>;
  serverStream(method: DescMethod, input: Message, call: UpstreamCall): AsyncIterable<Message>;
}

export interface UpstreamCall {
  /** The caller's request headers (Fetch `Headers` or Node's header object). */
  headers: Headers | Record<string, string | string[] | undefined>;
  signal?: AbortSignal;
  /** Deadline of the call; undefined = none (event streams). */
  timeoutMs?: number;
}

/** A proxied service: where it listens, or a client to reach it by (tests, other hosts). */
export interface UpstreamTarget {
  service: DescService;
  /** gRPC (h2c) base URL; unary calls take the lean path (lib/rpc/grpc-unary-client) over the streams' connection. */
  baseUrl: string;
  /** A Connect `Client` of `service` used for every call instead of `baseUrl`. */
  client?: unknown;
}

/**
 * The gateway's way to the services: one HTTP/2 connection per service, called by method
 * descriptor, with the caller's credentials (never a key of the gateway's own: each service
 * enforces roles and tenants for the real caller). Unary calls, the bulk of the traffic, go
 * through lib/rpc's unary gRPC client (a third of connect-es's client CPU per call); server
 * streams through a connect-es client on the same connection. Errors come back cleaned: code,
 * message and details kept, transport internals (addresses, protocol headers) dropped.
 */
export function createUpstream(options: { targets: readonly UpstreamTarget[]; peerIdleTimeoutMs?: number; logger: Logger }): Upstream {
  const byService = new Map<string, { service: DescService; client: AnyClient; unary?: GrpcUnaryClient }>();
  for (const target of options.targets) {
    if (target.client) {
      byService.set(target.service.typeName, { service: target.service, client: target.client as AnyClient });
      continue;
    }
    const sessions = createServiceSessions(target.baseUrl, options.peerIdleTimeoutMs);
    const client = createServiceClient(target.service, target.baseUrl, { sessions }) as unknown as AnyClient;
    byService.set(target.service.typeName, { service: target.service, client, unary: createGrpcUnaryClient(sessions) });
  }
  const entryOf = (method: DescMethod) => {
    const entry = byService.get(method.parent.typeName);
    if (!entry || !entry.client[method.localName])
      throw new ConnectError(`${method.parent.typeName}/${method.name} is not proxied`, Code.Unimplemented);
    return entry;
  };
  // a deadline too long for the gRPC header still holds: the caller's signal ends the call
  const optionsOf = (call: UpstreamCall): CallOptions => ({
    headers: forwardedHeaders(call.headers),
    signal: call.signal,
    timeoutMs: forwardableDeadline(call.timeoutMs),
  });
  return {
    services: [...byService.values()].map((e) => e.service),
    async unary(method, input, call) {
      try {
        const entry = entryOf(method);
        if (entry.unary) return await entry.unary.call(method, input, optionsOf(call));
        return (await entry.client[method.localName]!(input, optionsOf(call))) as Message;
      } catch (err) {
        throw cleanUpstreamError(err, method, options.logger);
      }
    },
    async *serverStream(method, input, call) {
      try {
        yield* entryOf(method).client[method.localName]!(input, optionsOf(call)) as AsyncIterable<Message>;
      } catch (err) {
        throw cleanUpstreamError(err, method, options.logger);
      }
    },
  };
}

/**
 * A plain record, not a `Headers`: the Connect client copies what it is given into a `Headers`
 * of its own, and building (and validating) one here too showed in the gateway's profile.
 */
export function forwardedHeaders(source: UpstreamCall["headers"]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of FORWARDED_HEADERS) {
    const value = source instanceof Headers ? source.get(name) : source[name];
    const text = Array.isArray(value) ? value[0] : value;
    if (text) out[name] = text;
  }
  return out;
}

/**
 * What the caller may see of an upstream failure. A service's own answer (it sent a grpc-status)
 * passes through; a failure to reach it (refused connection, reset, protocol error) becomes a
 * plain "unavailable" without the address, and the cause goes to the log.
 */
export function cleanUpstreamError(err: unknown, method: DescMethod, logger: Logger): ConnectError {
  if (!(err instanceof ConnectError)) return toConnectError(err, logger);
  const answered = err.metadata.has("grpc-status");
  const service = method.parent.name;
  if (!answered && (err.code === Code.Unavailable || err.code === Code.Unknown || err.code === Code.Internal)) {
    logger.warn("upstream unreachable", { upstream: service, method: method.name, error_code: Code[err.code], error: err.rawMessage });
    return new ConnectError(`${service} is unavailable; retry later`, Code.Unavailable);
  }
  if (err.code === Code.DeadlineExceeded && !answered) {
    return new ConnectError(`${service} did not answer in time`, Code.DeadlineExceeded);
  }
  if (err.code === Code.Canceled && !answered) return new ConnectError("request cancelled", Code.Canceled);
  const metadata = new Headers();
  for (const name of RETURNED_METADATA) {
    const value = err.metadata.get(name);
    if (value) metadata.set(name, value);
  }
  const clean = new ConnectError(err.rawMessage, err.code, metadata);
  // details (e.g. protovalidate's field violations) are the service's answer too: keep them
  clean.details.push(...err.details);
  return clean;
}
