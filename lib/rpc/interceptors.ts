import { randomUUID } from "node:crypto";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { Authenticator } from "../auth/api-key-store.js";
import { callerKey } from "../auth/caller.js";
import type { Logger } from "../log/logger.js";
import { toConnectError } from "./errors.js";
import { rpcOptions } from "./rpc-options.js";

/** Services anyone may call, on every port: health and reflection (vendored protos, so no options of ours). */
const ALWAYS_PUBLIC_SERVICES = ["grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"];

export interface AuthInterceptorOptions {
  authenticator: Authenticator;
}

/**
 * Authenticates `authorization: Bearer <api key>` and puts the caller in the handler context.
 * The one auth interceptor every service uses; handlers check roles and tenants with lib/auth.
 * RPCs marked `(reviewflow.options.v1.no_api_key)` pass without a key: their one-time secret is the proof.
 */
export function createAuthInterceptor(options: AuthInterceptorOptions): Interceptor {
  return (next) => async (req) => {
    if (ALWAYS_PUBLIC_SERVICES.includes(req.service.typeName) || rpcOptions(req.method).noApiKey) {
      return next(req);
    }
    const header = req.header.get("authorization") ?? "";
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const caller = match ? await options.authenticator.authenticate(match[1]) : undefined;
    if (!caller) {
      throw new ConnectError(
        match ? "invalid or revoked API key" : "missing API key: send `authorization: Bearer <api key>`",
        Code.Unauthenticated,
      );
    }
    req.contextValues.set(callerKey, caller);
    return next(req);
  };
}

/**
 * Logs one line per call (method, rpc_code, duration, request id) and turns every error into the one
 * Connect error a caller may see. Never logs headers or bodies: tokens live there.
 */
export function createLoggingInterceptor(logger: Logger): Interceptor {
  return (next) => async (req) => {
    const started = performance.now();
    const requestId = req.header.get("x-request-id") ?? randomUUID();
    const fields = { method: `${req.service.typeName}/${req.method.name}`, request_id: requestId };
    const fail = (err: unknown) => {
      const connectErr = toConnectError(err, logger.child(fields));
      const level = connectErr.code === Code.Internal || connectErr.code === Code.Unavailable ? "error" : "info";
      logger[level]("rpc", {
        ...fields,
        rpc_code: Code[connectErr.code],
        ms: Math.round(performance.now() - started),
        error: connectErr.rawMessage,
      });
      return connectErr;
    };
    try {
      const res = await next(req);
      if (!res.stream) {
        logger.info("rpc", { ...fields, rpc_code: "ok", ms: Math.round(performance.now() - started) });
        return res;
      }
      // a streaming handler runs as its messages are read, after this call returned: map (and
      // log) what it throws then too, or a domain error mid-stream would reach the caller as INTERNAL
      const messages = res.message;
      return {
        ...res,
        message: (async function* () {
          try {
            yield* messages;
            logger.info("rpc", { ...fields, rpc_code: "ok", ms: Math.round(performance.now() - started) });
          } catch (err) {
            throw fail(err);
          }
        })(),
      };
    } catch (err) {
      throw fail(err);
    }
  };
}
