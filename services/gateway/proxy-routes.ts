import type { DescMethod, Message } from "@bufbuild/protobuf";
import { Code, ConnectError, type ConnectRouter, type HandlerContext } from "@connectrpc/connect";
import type { Upstream } from "./upstream.js";

/**
 * Every RPC of every proxied service, registered one method at a time from the descriptors and
 * forwarded to its service with the caller's credentials: the same RPCs over Connect, gRPC and
 * gRPC-Web on the gateway's port, with no handler written per RPC. The caller's deadline is kept
 * when shorter than the gateway's own; event streams have none (they end with their job).
 */
export function createProxyRoutes(deps: { upstream: Upstream; timeoutMs: number }): (router: ConnectRouter) => void {
  const deadline = (ctx: HandlerContext) => {
    const callerMs = ctx.timeoutMs();
    return callerMs === undefined ? deps.timeoutMs : Math.min(callerMs, deps.timeoutMs);
  };
  return (router) => {
    for (const service of deps.upstream.services) {
      for (const method of service.methods) {
        router.rpc(method, implementation(method) as never);
      }
    }
  };

  function implementation(method: DescMethod) {
    switch (method.methodKind) {
      case "unary":
        return (req: Message, ctx: HandlerContext) =>
          deps.upstream.unary(method, req, { headers: ctx.requestHeader, signal: ctx.signal, timeoutMs: deadline(ctx) });
      case "server_streaming":
        return (req: Message, ctx: HandlerContext) =>
          deps.upstream.serverStream(method, req, { headers: ctx.requestHeader, signal: ctx.signal, timeoutMs: ctx.timeoutMs() });
      default:
        // neither service has client or bidi streams; refuse clearly should one appear
        return () => {
          throw new ConnectError(
            `${method.parent.typeName}/${method.name}: ${method.methodKind} is not proxied by the gateway`,
            Code.Unimplemented,
          );
        };
    }
  }
}
