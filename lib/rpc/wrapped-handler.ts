import type { UniversalHandler } from "@connectrpc/connect/protocol";

type HandlerFn = (req: Parameters<UniversalHandler>[0]) => ReturnType<UniversalHandler>;

/**
 * A function that stands in front of `handler` as a handler in its own right: connect-node's
 * router reads the method, path, protocols and allowed HTTP methods from these properties, so a
 * wrapper must carry every one of them.
 */
export function wrapHandler(handler: UniversalHandler, wrapper: HandlerFn): UniversalHandler {
  return Object.assign(wrapper, {
    protocolNames: handler.protocolNames,
    service: handler.service,
    method: handler.method,
    requestPath: handler.requestPath,
    allowedMethods: handler.allowedMethods,
    supportedContentType: handler.supportedContentType,
  });
}
