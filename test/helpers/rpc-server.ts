import { silentLogger } from "../../lib/log/index.js";
import { createRpcServer, type RpcServer, type RpcServerOptions } from "../../lib/rpc/index.js";

/**
 * A `createRpcServer` on port 0 (127.0.0.1) for the surrounding describe: listening before its
 * tests, closed after them. The logger defaults to a silent one.
 */
export function useRpcServer(options: Omit<RpcServerOptions, "logger"> & Partial<Pick<RpcServerOptions, "logger">>): {
  readonly server: RpcServer;
  readonly port: number;
  readonly baseUrl: string;
} {
  const state = {} as { server: RpcServer; port: number };
  before(async () => {
    state.server = createRpcServer({ logger: silentLogger, ...options });
    state.port = await state.server.listen(0);
  });
  after(() => state.server?.close());
  return {
    get server() {
      return state.server;
    },
    get port() {
      return state.port;
    },
    get baseUrl() {
      return `http://127.0.0.1:${state.port}`;
    },
  };
}
