export { errorChain, toConnectError } from "./errors.js";
// the error classes' home is lib/errors; offered here too, next to the mapping that reads them
export {
  AlreadyExistsError,
  DomainError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  ResourceExhaustedError,
  UnauthenticatedError,
  UnavailableError,
} from "../errors/index.js";
export { createHealthState, registerHealth, ServingStatus, type HealthState } from "./health.js";
export { createAuthInterceptor, createLoggingInterceptor, type AuthInterceptorOptions } from "./interceptors.js";
export { createNulGuardInterceptor, NUL_RULE_ID } from "./nul-guard.js";
export { registerReflection } from "./reflection.js";
export { BrowserPage, rpcOptions, type RpcOptions } from "./rpc-options.js";
export { createRpcServer, type RpcServer, type RpcServerOptions } from "./server.js";
export { createStandardInterceptors } from "./standard-interceptors.js";
export { createServiceClient, createServiceSessions } from "./service-client.js";
export { createGrpcUnaryClient, type GrpcUnaryClient, type UnaryCallOptions } from "./grpc-unary-client.js";
