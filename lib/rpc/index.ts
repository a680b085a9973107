export {
  AlreadyExistsError,
  DomainError,
  errorChain,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  ResourceExhaustedError,
  toConnectError,
  UnauthenticatedError,
  UnavailableError,
} from "./errors.js";
export { createHealthState, registerHealth, ServingStatus, type HealthState } from "./health.js";
export { createAuthInterceptor, createLoggingInterceptor, type AuthInterceptorOptions } from "./interceptors.js";
export { createNulGuardInterceptor, NUL_RULE_ID } from "./nul-guard.js";
export { registerReflection } from "./reflection.js";
export { createRpcServer, type RpcServer, type RpcServerOptions } from "./server.js";
export { createStandardInterceptors } from "./standard-interceptors.js";
export { createServiceClient } from "./service-client.js";
