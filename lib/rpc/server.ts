import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import type { DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, createConnectRouter, type ConnectRouter, type Interceptor } from "@connectrpc/connect";
import type { UniversalHandler } from "@connectrpc/connect/protocol";
import {
  compressionBrotli,
  compressionGzip,
  universalRequestFromNodeRequest,
  universalResponseToNodeResponse,
  type connectNodeAdapter,
} from "@connectrpc/connect-node";
import { HTTP_TIMEOUT_DEFAULTS, type HttpTimeouts } from "../config/config.js";
import type { Logger } from "../log/logger.js";
import { serveMetrics, type Registry } from "../metrics/index.js";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { guardH2Session, h1TimeoutOptions } from "./connection-timeouts.js";
import { dropUnholdableDeadline } from "./deadline.js";
import { createHealthState, registerHealth, ServingStatus, type HealthState } from "./health.js";
import { createNoStoreInterceptor } from "./no-store.js";
import { registerReflection } from "./reflection.js";
import { explainRefusals } from "./refusal-bodies.js";
import { refuseUndecodableRequests } from "./request-decoding.js";

/** A Node request handler for HTTP/1.1 and HTTP/2 alike, as connect-node types it. */
type NodeHandlerFn = ReturnType<typeof connectNodeAdapter>;

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
  /** When slow or silent connections are closed (config.httpTimeouts; defaults: HTTP_TIMEOUT_DEFAULTS). */
  timeouts?: Readonly<HttpTimeouts>;
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
 *
 * The HTTP/1.1 server is the one listening, so Node's own header, request and keep-alive
 * timeouts run for it (they start on `listening`); h2c sessions get the same limits from
 * `guardH2Session`; a socket that has not shown its protocol within the headers timeout is
 * closed. Every request has a deadline no timer can hold removed (`dropUnholdableDeadline`) and
 * is answered with `X-Content-Type-Options: nosniff`; an RPC whose body cannot be decoded is
 * INVALID_ARGUMENT (`refuseUndecodableRequests`); a wrong method or media type gets its 405 / 415
 * with the JSON error body (`explainRefusals`); credential-bearing answers are `no-store`.
 */
export function createRpcServer(options: RpcServerOptions): RpcServer {
  const health = createHealthState(options.services.map((s) => s.typeName));
  const shutdown = new AbortController();
  const timeouts = options.timeouts ?? HTTP_TIMEOUT_DEFAULTS;
  const readMaxBytes = options.readMaxBytes ?? 4 * 1024 * 1024;
  const acceptCompression = [compressionGzip, compressionBrotli];
  const router = createConnectRouter({
    interceptors: [createNoStoreInterceptor(), ...(options.interceptors ?? [])],
    readMaxBytes,
    acceptCompression,
    shutdownSignal: shutdown.signal,
  });
  options.routes(router);
  registerHealth(router, health);
  registerReflection(router, [...options.services, Health]);
  const rpcs = new Map<string, UniversalHandler>(
    router.handlers.map((h) => [h.requestPath, explainRefusals(refuseUndecodableRequests(h, acceptCompression, readMaxBytes))]),
  );
  const fallback: NodeHandlerFn = (req, res) => {
    if (options.metrics && serveMetrics(options.metrics, req as http.IncomingMessage, res as http.ServerResponse)) return;
    if (options.fallback) return options.fallback(req, res);
    res.writeHead(404, { "content-type": "application/json" });
    res.end(JSON.stringify({ code: "not_found", message: "no such route" }));
  };
  // connect-node's connectNodeAdapter, with each RPC's handler wrapped (it offers no hook for that)
  const rpcHandler: NodeHandlerFn = (req, res) => {
    const rpc = rpcs.get((req.url ?? "").split("?", 1)[0]!);
    if (!rpc) return fallback(req, res);
    rpc(universalRequestFromNodeRequest(req, res, undefined, undefined))
      .then((uRes) => universalResponseToNodeResponse(uRes, res))
      .catch((reason: unknown) => {
        // a client that went away is no failure of ours
        if (ConnectError.from(reason).code === Code.Aborted) return;
        options.logger.error("rpc handler failed", { method: `${rpc.service.typeName}/${rpc.method.name}`, err: reason });
      });
  };
  const wrapped = options.wrapHandler ? options.wrapHandler(rpcHandler) : rpcHandler;
  const handler: NodeHandlerFn = (req, res) => {
    res.setHeader("x-content-type-options", "nosniff");
    dropUnholdableDeadline(req.headers);
    wrapped(req, res);
  };

  const h1 = http.createServer(h1TimeoutOptions(timeouts), handler);
  // keep-alive connections close after the idle timeout (Node's default is 5 s)
  h1.keepAliveTimeout = timeouts.idleTimeoutMs;
  const h2 = http2.createServer({}, handler);
  const sockets = new Set<net.Socket>();
  const sessions = new Set<http2.Http2Session>();
  h2.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
    guardH2Session(session, timeouts);
  });

  // the HTTP/1.1 server accepts every socket; the first bytes decide who serves it
  const acceptH1 = h1.listeners("connection") as ((socket: net.Socket) => void)[];
  h1.removeAllListeners("connection");
  h1.on("connection", (socket: net.Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    // a socket that never shows its protocol (silent, or trickling the h2 preface) is cut
    const undecided = setTimeout(() => socket.destroy(), timeouts.headersTimeoutMs);
    let head = Buffer.alloc(0);
    const route = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const isH2 = head.subarray(0, H2_PREFACE.length).equals(H2_PREFACE.subarray(0, Math.min(head.length, H2_PREFACE.length)));
      // a short first segment could be either protocol: wait until the preface can be told apart
      if (isH2 && head.length < H2_PREFACE.length) return;
      clearTimeout(undecided);
      socket.off("data", route);
      socket.pause();
      socket.unshift(head);
      if (isH2) {
        // h2 reads the unshifted preface itself; resuming it loses the preface
        h2.emit("connection", socket);
      } else {
        for (const accept of acceptH1) accept.call(h1, socket);
        socket.resume();
      }
    };
    socket.on("data", route);
    socket.once("close", () => clearTimeout(undecided));
  });

  return {
    health,
    handler,
    listen(port, host = "127.0.0.1") {
      return new Promise((resolve, reject) => {
        h1.once("error", reject);
        h1.listen(port, host, () => {
          h1.off("error", reject);
          const address = h1.address() as net.AddressInfo;
          options.logger.info("listening", { port: address.port, host, services: options.services.map((s) => s.typeName) });
          resolve(address.port);
        });
      });
    },
    async close() {
      for (const name of health.all().keys()) health.set(name, ServingStatus.NOT_SERVING);
      const closed = new Promise<void>((resolve) => h1.close(() => resolve()));
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
      if (h1.listening) await closed;
      clearTimeout(grace);
      clearInterval(sweep);
      for (const socket of sockets) socket.destroy();
    },
  };
}
