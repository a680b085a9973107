import { randomUUID } from "node:crypto";
import type { RpcServer } from "../../lib/rpc/index.js";
import type { Logger } from "../../lib/log/index.js";
import type { Cors } from "./cors.js";
import { CLIENT_IP_HEADER } from "./gate.js";
import { bodyTooLarge, sendError, type HttpRequest, type HttpResponse } from "./http-io.js";
import type { GatewayMetrics } from "./metrics.js";

type NodeHandler = RpcServer["handler"];

/** Facts about one request that the handlers behind the edge fill in or read. */
export interface RequestState {
  requestId: string;
  /** The metrics label: a route template, an RPC path, or `unmatched`. */
  route: string;
  ip: string;
}

const states = new WeakMap<object, RequestState>();

/** The edge's state of a request (set for every request that passed the edge). */
export function requestState(req: HttpRequest): RequestState {
  let state = states.get(req);
  if (!state) {
    state = { requestId: randomUUID(), route: "unmatched", ip: "unknown" };
    states.set(req, state);
  }
  return state;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * What every request meets before routing, RPC or REST alike: a request id (the caller's when it
 * is sane, else a new one; echoed and forwarded upstream), the client address for the limits,
 * CORS, the body size limit by Content-Length, `X-Process-Time` (seconds until the response
 * headers), and one access-log line and metrics sample per request. The log names the route
 * template, never the URL: query strings carry one-time links and OAuth codes.
 */
export function createEdge(deps: {
  cors: Cors;
  metrics: GatewayMetrics;
  logger: Logger;
  bodyLimitBytes: number;
  /** RPC paths the Connect router serves, for the route label. */
  rpcPaths: ReadonlySet<string>;
}): (inner: NodeHandler) => NodeHandler {
  return (inner) => (req, res) => {
    const started = process.hrtime.bigint();
    const incomingId = req.headers["x-request-id"];
    const requestId = typeof incomingId === "string" && REQUEST_ID.test(incomingId) ? incomingId : randomUUID();
    const path = (req.url ?? "/").split("?")[0];
    const state: RequestState = { requestId, route: "unmatched", ip: req.socket?.remoteAddress ?? "unknown" };
    states.set(req, state);
    if (deps.rpcPaths.has(path)) state.route = path;
    // handlers behind the edge (Connect's included) read these from the request itself
    req.headers["x-request-id"] = requestId;
    req.headers[CLIENT_IP_HEADER] = state.ip;
    res.setHeader("x-request-id", requestId);

    const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
    const writeHead = res.writeHead;
    (res as { writeHead: unknown }).writeHead = function (this: HttpResponse, ...args: unknown[]) {
      if (!res.headersSent) res.setHeader("x-process-time", seconds().toFixed(6));
      return (writeHead as (...a: unknown[]) => unknown).apply(this, args);
    };
    let recorded = false;
    const record = () => {
      if (recorded) return;
      recorded = true;
      const status = res.headersSent ? res.statusCode : 499;
      const elapsed = seconds();
      deps.metrics.requests.inc({ route: state.route, method: req.method ?? "?", status: String(status) });
      deps.metrics.duration.observe({ route: state.route, method: req.method ?? "?" }, elapsed);
      deps.logger.info("http", { method: req.method, route: state.route, status, ms: Math.round(elapsed * 1000), request_id: requestId });
    };
    res.once("finish", record);
    res.once("close", record);

    if (deps.cors.handle(req, res)) return;
    const length = Number(req.headers["content-length"] ?? 0);
    if (length > deps.bodyLimitBytes) {
      // answer before reading, and drain what the client still sends so it can read the answer
      if (req.httpVersionMajor === 1) res.setHeader("connection", "close");
      sendError(res, bodyTooLarge(deps.bodyLimitBytes).error);
      req.resume();
      return;
    }
    inner(req, res);
  };
}
