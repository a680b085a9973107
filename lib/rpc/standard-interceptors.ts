import type { Interceptor } from "@connectrpc/connect";
import { createValidateInterceptor } from "@connectrpc/validate";
import type { Authenticator } from "../auth/api-key-store.js";
import type { Logger } from "../log/logger.js";
import { createAuthInterceptor, createLoggingInterceptor } from "./interceptors.js";
import { createNulGuardInterceptor } from "./nul-guard.js";

/**
 * The interceptor chain every service runs, outermost first: log + map errors, authenticate,
 * then enforce the protovalidate rules of the .proto (INVALID_ARGUMENT with field violations),
 * then refuse strings Postgres cannot hold (U+0000) in any field of any request, the same way.
 */
export function createStandardInterceptors(options: { logger: Logger; authenticator: Authenticator }): Interceptor[] {
  return [
    createLoggingInterceptor(options.logger),
    createAuthInterceptor({ authenticator: options.authenticator }),
    createValidateInterceptor(),
    createNulGuardInterceptor(),
  ];
}
