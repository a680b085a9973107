import { Code, ConnectError } from "@connectrpc/connect";
import {
  createRouteTable,
  decodeRestRequest,
  encodeRestResponse,
  PathDecodeError,
  restError,
  type RestRoute,
} from "../../lib/rest/index.js";
import type { Logger } from "../../lib/log/index.js";
import { BrowserPage, rpcOptions } from "../../lib/rpc/index.js";
import { NO_STORE } from "../../lib/rpc/no-store.js";
import { requestState } from "./edge.js";
import type { SessionAuth } from "./console/session-auth.js";
import type { Gate } from "./gate.js";
import { readJsonBody, restErrorFrom, sendError, sendJson, type HttpRequest, type HttpResponse } from "./http-io.js";
import type { GatewayMetrics } from "./metrics.js";
import type { OAuthPages } from "./oauth-pages.js";
import { relayAsSse } from "./sse.js";
import type { Upstream } from "./upstream.js";

export interface RestHandlerDeps {
  routes: readonly RestRoute[];
  upstream: Upstream;
  gate: Gate;
  /** Accepts the console's session cookie in place of an Authorization header. */
  sessionAuth?: SessionAuth;
  oauthPages: OAuthPages;
  metrics: GatewayMetrics;
  logger: Logger;
  bodyLimitBytes: number;
  timeoutMs: number;
  sseKeepAliveMs: number;
}

/**
 * The REST surface: every route of the `google.api.http` annotations, answered generically —
 * authenticate and limit, read the JSON body, build the request message (lib/rest), call the
 * service over gRPC with the caller's credentials, write the response's REST JSON (with the rpc's
 * `http_success_status`). Server streams become Server-Sent Events; the RPCs the .proto marks
 * `browser_page` become the consent pages. Resolves false when no route matched the path, so the
 * caller can answer 404.
 */
export interface RestHandler {
  handle(req: HttpRequest, res: HttpResponse): Promise<boolean>;
  /** Ends every open event stream with `event: end` (reason "shutdown"), resolving once they are written: for a graceful stop. */
  endStreams(): Promise<void>;
}

export function createRestHandler(deps: RestHandlerDeps): RestHandler {
  const table = createRouteTable(deps.routes.map((route) => ({ httpMethod: route.httpMethod, template: route.template, value: route })));
  const streams = new Map<AbortController, Promise<void>>();
  let shuttingDown = false;

  const handle = async (req: HttpRequest, res: HttpResponse): Promise<boolean> => {
    let url: URL;
    let match;
    try {
      // a request target is a path: never let "//host/…" be read as another origin
      url = new URL(`http://gateway${(req.url ?? "/").replace(/^\/+/, "/")}`);
      match = table.match(req.method ?? "GET", url.pathname);
    } catch (err) {
      sendError(res, restError(400, Code.InvalidArgument, err instanceof PathDecodeError ? err.message : "malformed request URL"));
      return true;
    }
    if (match.kind === "not_found") return false;
    if (match.kind === "method_not_allowed") {
      sendError(
        res,
        restError(405, Code.Unimplemented, `${req.method} is not allowed on ${url.pathname}; use ${match.allowed.join(", ")}`, {
          allow: match.allowed.join(", "),
        }),
      );
      return true;
    }
    const route = match.value;
    const state = requestState(req);
    state.route = route.template.source;
    const options = rpcOptions(route.method);
    // an access token, a login link or a new key: no cache may keep the answer (or its error)
    if (options.answersWithCredential) res.setHeader("cache-control", NO_STORE["cache-control"]);
    try {
      // a login link is minted by a GET, but it is a change all the same: it needs the CSRF token too
      const stateChanging = route.httpMethod !== "GET" || options.answersWithCredential;
      // a request's own Authorization header wins over a session cookie (and needs no await)
      const authorization =
        req.headers.authorization || !deps.sessionAuth || options.noApiKey
          ? req.headers.authorization
          : await deps.sessionAuth.authorization(req, stateChanging);
      await deps.gate.admit({ method: route.method, authorization, ip: state.ip });
      // what the services see: the caller's own header, or the session the cookie carried
      const headers = authorization === req.headers.authorization ? req.headers : { ...req.headers, authorization };
      if (options.browserPage === BrowserPage.CONSENT_START) {
        await deps.oauthPages.login(req, res, match.params, url.searchParams);
        return true;
      }
      if (options.browserPage === BrowserPage.CONSENT_RESULT) {
        await deps.oauthPages.callback(req, res, url.searchParams);
        return true;
      }

      const body = route.body ? await readJsonBody(req, deps.bodyLimitBytes) : undefined;
      const input = decodeRestRequest(route, { params: match.params, query: url.searchParams, body });
      if (route.method.methodKind === "server_streaming") {
        if (shuttingDown) throw new ConnectError("the gateway is shutting down; reconnect to another instance", Code.Unavailable);
        const abort = new AbortController();
        res.once("close", () => abort.abort("client_closed"));
        const stream = deps.upstream.serverStream(route.method, input, { headers, signal: abort.signal });
        const relayed = relayAsSse(res, stream, {
          output: route.method.output,
          keepAliveMs: deps.sseKeepAliveMs,
          abort,
          onEnd: (outcome) => deps.metrics.sseStreams.inc({ outcome }),
        });
        streams.set(abort, relayed);
        try {
          await relayed;
        } finally {
          streams.delete(abort);
        }
        return true;
      }
      const output = await deps.upstream.unary(route.method, input, { headers, timeoutMs: deps.timeoutMs });
      sendJson(res, options.httpSuccessStatus, encodeRestResponse(route, output));
    } catch (err) {
      sendError(res, restErrorFrom(err, deps.logger));
    }
    return true;
  };

  return {
    handle,
    async endStreams() {
      shuttingDown = true;
      for (const abort of streams.keys()) abort.abort("shutdown");
      await Promise.allSettled(streams.values());
    },
  };
}
