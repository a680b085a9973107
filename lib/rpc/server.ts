import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import type { DescService } from "@bufbuild/protobuf";
import type { ConnectRouter, Interceptor } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
type NodeHandlerFn = ReturnType<typeof connectNodeAdapter>;
import type { Logger } from "../log/logger.js";
import { serveMetrics, type Registry } from "../metrics/index.js";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { createHealthState, registerHealth, ServingStatus, type HealthState } from "./health.js";
import { registerReflection } from "./reflection.js";

export interface RpcServerOptions {
  /** Registers the service's handlers: the same function production, tests and any host use. */
  routes: (router: ConnectRouter) => void;
  /** The services `routes` registers: announced by health and reflection. */
  services: DescService[];
  interceptors?: Interceptor[];
  logger: Logger;
  /** Handles requests no RPC route matched (the gateway's REST and HTML routes). */
  fallback?: NodeHandlerFn;
  /** Served at `GET /metrics` (Prometheus text) on the same port. */
  metrics?: Registry;
  /** Largest accepted request message, in bytes. */
  readMaxBytes?: number;
  /** How long shutdown waits for in-flight calls before cutting connections. */
  shutdownGraceMs?: number;
  /**
   * Wraps the request handler for every request, RPC or not (the gateway's CORS, request ids,
   * size limits and metrics). Connect interceptors cannot answer preflights or see REST routes.
   */
  wrapHandler?: (handler: NodeHandlerFn) => NodeHandlerFn;
}

export interface RpcServer {
  health: HealthState;
  /** The raw request handler, for hosting inside another server or a test. */
  handler: NodeHandlerFn;
  /** Listens on `port` (0 = any) and resolves with the bound port. */
  listen(port: number, host?: string): Promise<number>;
  /** Stops accepting, reports NOT_SERVING, lets in-flight calls finish, then closes. */
  close(): Promise<void>;
}

const H2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

/**
 * Hosts a Connect router with grpc.health.v1 and server reflection on one port that speaks both
 * h2c (gRPC, grpcurl, service-to-service) and HTTP/1.1 (curl, browsers: REST, Connect, gRPC-Web).
 * Node's h2c server cannot fall back to HTTP/1.1 without TLS, so the first bytes pick the server.
 */
export function createRpcServer(options: RpcServerOptions): RpcServer {
  const health = createHealthState(options.services.map((s) => s.typeName));
  const shutdown = new AbortController();
  const handler = connectNodeAdapter({
    routes(router) {
      options.routes(router);
      registerHealth(router, health);
      registerReflection(router, [...options.services, Health]);
    },
    interceptors: options.interceptors,
    fallback: (req, res) => {
      if (options.metrics && serveMetrics(options.metrics, req as http.IncomingMessage, res as http.ServerResponse)) return;
      if (options.fallback) return options.fallback(req, res);
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ code: "not_found", message: "no such route" }));
    },
    readMaxBytes: options.readMaxBytes ?? 4 * 1024 * 1024,
    shutdownSignal: shutdown.signal,
  });
  const outer = options.wrapHandler ? options.wrapHandler(handler) : handler;
  const h1 = http.createServer(outer);
  const h2 = http2.createServer({}, outer);
  const sockets = new Set<net.Socket>();
  const sessions = new Set<http2.Http2Session>();
  h2.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });
  // keep-alive slightly longer than typical proxies so they close first
  h1.keepAliveTimeout = 65_000;

  const tcp = net.createServer((socket) => {
    sockets.add(socket);
    // http.createServer turns Nagle off on the sockets it accepts; these come from net.createServer,
    // so do it here, or small responses wait for the peer's delayed ACK (tens of ms per call)
    socket.setNoDelay(true);
    socket.once("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    let head = Buffer.alloc(0);
    const route = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const isH2 = head.subarray(0, H2_PREFACE.length).equals(H2_PREFACE.subarray(0, Math.min(head.length, H2_PREFACE.length)));
      // a short first segment could be either protocol: wait until the preface can be told apart
      if (isH2 && head.length < H2_PREFACE.length) return;
      socket.off("data", route);
      socket.pause();
      socket.unshift(head);
      // h2 reads the unshifted preface itself; resuming it loses the preface, not resuming h1 hangs it
      (isH2 ? h2 : h1).emit("connection", socket);
      if (!isH2) socket.resume();
    };
    socket.on("data", route);
  });

  return {
    health,
    handler,
    listen(port, host = "127.0.0.1") {
      return new Promise((resolve, reject) => {
        tcp.once("error", reject);
        tcp.listen(port, host, () => {
          tcp.off("error", reject);
          const address = tcp.address() as net.AddressInfo;
          options.logger.info("listening", { port: address.port, host, services: options.services.map((s) => s.typeName) });
          resolve(address.port);
        });
      });
    },
    async close() {
      for (const name of health.all().keys()) health.set(name, ServingStatus.NOT_SERVING);
      const closed = new Promise<void>((resolve) => tcp.close(() => resolve()));
      shutdown.abort();
      for (const session of sessions) session.close();
      // busy HTTP/1.1 connections become idle as their requests finish: close them as they do
      h1.closeIdleConnections();
      const sweep = setInterval(() => h1.closeIdleConnections(), 50);
      const grace = setTimeout(() => {
        for (const socket of sockets) socket.destroy();
      }, options.shutdownGraceMs ?? 5_000);
      grace.unref();
      // a server that never listened has nothing to wait for
      if (tcp.listening) await closed;
      clearTimeout(grace);
      clearInterval(sweep);
      for (const socket of sockets) socket.destroy();
    },
  };
}
