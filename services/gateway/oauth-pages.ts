import { create, toJson } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { REST_JSON_WRITE_OPTIONS, restError, type RestError } from "../../lib/rest/index.js";
import {
  CompleteOAuthRequestSchema,
  CompleteOAuthResponseSchema,
  OpenLoginLinkRequestSchema,
  TokenService,
  type CompleteOAuthResponse,
  type OpenLoginLinkResponse,
} from "../../gen/reviewflow/token/v1/token_service_pb.js";
import { restErrorFrom, sendJson, wantsJson, type HttpRequest, type HttpResponse } from "./http-io.js";
import type { Upstream } from "./upstream.js";

const openLoginLink = TokenService.method.openLoginLink;
const completeOAuth = TokenService.method.completeOAuth;

/** The consent pages a person opens in a browser, without an API key (their one-time secrets are the proof). */
export interface OAuthPages {
  /** `GET /oauth/login/{client_id}?link=…` → 302 to Google's consent page. */
  login(req: HttpRequest, res: HttpResponse, params: Record<string, string>, query: URLSearchParams): Promise<void>;
  /** `GET /auth/callback?code&state` (or `?error=…&state`) → a page saying which client is connected. */
  callback(req: HttpRequest, res: HttpResponse, query: URLSearchParams): Promise<void>;
}

export function createOAuthPages(deps: { upstream: Upstream; timeoutMs: number }): OAuthPages {
  return {
    async login(req, res, params, query) {
      let answer: OpenLoginLinkResponse;
      try {
        const link = query.get("link");
        if (!link) throw new ConnectError("this login link is incomplete: it has no `link` parameter", Code.InvalidArgument);
        const input = create(OpenLoginLinkRequestSchema, { clientId: params.client_id ?? "", link });
        answer = (await deps.upstream.unary(openLoginLink, input, { headers: req.headers, timeoutMs: deps.timeoutMs })) as OpenLoginLinkResponse;
      } catch (err) {
        return fail(req, res, restErrorFrom(err), "This login link cannot be used");
      }
      if (!/^https?:\/\//.test(answer.authorizationUrl)) {
        return fail(req, res, restError(502, Code.Internal, "the token service returned no usable consent URL"), "This login link cannot be used");
      }
      if (wantsJson(req)) return sendJson(res, 200, { authorization_url: answer.authorizationUrl });
      res.writeHead(302, { location: answer.authorizationUrl, "cache-control": "no-store", "referrer-policy": "no-referrer", "content-length": "0" });
      res.end();
    },

    async callback(req, res, query) {
      // Google adds scope, authuser, prompt, hd, iss…: only code, state and error matter here
      const googleError = query.get("error");
      if (googleError) {
        const reason = googleError === "access_denied" ? "consent was declined at Google" : `Google reported "${googleError}"`;
        return fail(req, res, restError(400, Code.FailedPrecondition, `${reason}; nothing was connected. Ask for a new login link to try again.`), "Nothing was connected");
      }
      const code = query.get("code");
      const state = query.get("state");
      if (!code || !state) {
        return fail(req, res, restError(400, Code.InvalidArgument, "the callback needs both `code` and `state`, as Google sends them"), "Nothing was connected");
      }
      let answer: CompleteOAuthResponse;
      try {
        const input = create(CompleteOAuthRequestSchema, { code, state });
        answer = (await deps.upstream.unary(completeOAuth, input, { headers: req.headers, timeoutMs: deps.timeoutMs })) as CompleteOAuthResponse;
      } catch (err) {
        return fail(req, res, restErrorFrom(err), "Nothing was connected");
      }
      if (wantsJson(req)) return sendJson(res, 200, toJson(CompleteOAuthResponseSchema, answer, REST_JSON_WRITE_OPTIONS));
      const client = answer.client;
      const name = client?.name || client?.id || "your client";
      sendPage(res, 200, "Connected", [
        `<p><strong>${escapeHtml(name)}</strong> is now connected to Google.</p>`,
        client?.id ? `<p>Client id: <code>${escapeHtml(client.id)}</code></p>` : "",
        "<p>You can close this window.</p>",
      ]);
    },
  };
}

function fail(req: HttpRequest, res: HttpResponse, error: RestError, title: string): void {
  if (wantsJson(req)) return sendJson(res, error.status, error.body, error.headers);
  sendPage(res, error.status, title, [`<p>${escapeHtml(error.body.message)}</p>`, `<p class="code">${escapeHtml(error.body.code)}</p>`], error.headers);
}

function sendPage(res: HttpResponse, status: number, title: string, body: string[], headers: Record<string, string> = {}): void {
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>reviewflow · ${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222}h1{font-size:1.4rem}.code{color:#777;font-size:.85rem}code{background:#f3f3f3;padding:0 .2rem}</style>
</head><body><h1>${escapeHtml(title)}</h1>
${body.filter(Boolean).join("\n")}
</body></html>
`;
  res.writeHead(status, {
    ...headers,
    "content-type": "text/html; charset=utf-8",
    "content-length": String(Buffer.byteLength(html)),
    // the callback URL carries the one-time code: never leak it onwards, never cache the page
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'",
    "x-content-type-options": "nosniff",
  });
  res.end(html);
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch]!);
}
