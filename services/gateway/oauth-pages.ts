import { create, toJson } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { CONSENT_FAILURE_METADATA, isConsentFailure, type ConsentFailure } from "../../lib/consent/failures.js";
import { REST_JSON_WRITE_OPTIONS, restError, type RestError } from "../../lib/rest/index.js";
import {
  CompleteOAuthRequestSchema,
  CompleteOAuthResponseSchema,
  OpenLoginLinkRequestSchema,
  TokenService,
  type CompleteOAuthResponse,
  type OpenLoginLinkResponse,
} from "../../gen/reviewflow/token/v1/token_service_pb.js";
import { CONNECTED, DECLINED, failureWording, GOOGLE_REFUSED, type Wording } from "./consent-wording.js";
import { requestState } from "./edge.js";
import { restErrorFrom, sendJson, wantsJson, type HttpRequest, type HttpResponse } from "./http-io.js";
import type { Upstream } from "./upstream.js";

const openLoginLink = TokenService.method.openLoginLink;
const completeOAuth = TokenService.method.completeOAuth;

/**
 * The consent pages a person opens in a browser, without an API key (their one-time secrets are
 * the proof). That person is a business owner, not a developer: each page says what happened and
 * what to do next in plain words (consent-wording.ts), the error code and a reference only in
 * small print. With `Accept: application/json` the answers are the API's usual JSON.
 */
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
        answer = (await deps.upstream.unary(openLoginLink, input, {
          headers: req.headers,
          timeoutMs: deps.timeoutMs,
        })) as OpenLoginLinkResponse;
      } catch (err) {
        return fail(req, res, "login", restErrorFrom(err), reasonOf(err));
      }
      if (!/^https?:\/\//.test(answer.authorizationUrl)) {
        return fail(req, res, "login", restError(502, Code.Internal, "the token service returned no usable consent URL"));
      }
      if (wantsJson(req)) return sendJson(res, 200, { authorization_url: answer.authorizationUrl });
      res.writeHead(302, {
        location: answer.authorizationUrl,
        "cache-control": "no-store",
        "referrer-policy": "no-referrer",
        "content-length": "0",
      });
      res.end();
    },

    async callback(req, res, query) {
      // Google adds scope, authuser, prompt, hd, iss…: only code, state and error matter here
      const googleError = query.get("error");
      if (googleError) {
        const declined = googleError === "access_denied";
        const reason = declined ? "consent was declined at Google" : `Google reported "${googleError}"`;
        const error = restError(400, Code.FailedPrecondition, `${reason}; nothing was connected. Ask for a new login link to try again.`);
        if (wantsJson(req)) return sendJson(res, error.status, error.body, error.headers);
        // Google's word is the technical detail here; it came in the URL, so it is cut short and escaped
        return sendPage(req, res, error.status, declined ? DECLINED : GOOGLE_REFUSED, [`Google said: ${googleError.slice(0, 64)}`]);
      }
      const code = query.get("code");
      const state = query.get("state");
      if (!code || !state) {
        return fail(
          req,
          res,
          "callback",
          restError(400, Code.InvalidArgument, "the callback needs both `code` and `state`, as Google sends them"),
        );
      }
      let answer: CompleteOAuthResponse;
      try {
        const input = create(CompleteOAuthRequestSchema, { code, state });
        answer = (await deps.upstream.unary(completeOAuth, input, {
          headers: req.headers,
          timeoutMs: deps.timeoutMs,
        })) as CompleteOAuthResponse;
      } catch (err) {
        return fail(req, res, "callback", restErrorFrom(err), reasonOf(err));
      }
      if (wantsJson(req)) return sendJson(res, 200, toJson(CompleteOAuthResponseSchema, answer, REST_JSON_WRITE_OPTIONS));
      const client = answer.client;
      const name = client?.name || client?.id || "Your business";
      sendPage(req, res, 200, CONNECTED(name), client?.id ? [`Client id: ${client.id}`] : [], { strong: name });
    },
  };
}

/** The TokenService's reason for a failed consent step, when it sent one. */
function reasonOf(err: unknown): ConsentFailure | undefined {
  const reason = err instanceof ConnectError ? err.metadata.get(CONSENT_FAILURE_METADATA) : null;
  return isConsentFailure(reason) ? reason : undefined;
}

function fail(req: HttpRequest, res: HttpResponse, step: "login" | "callback", error: RestError, reason?: ConsentFailure): void {
  if (wantsJson(req)) return sendJson(res, error.status, error.body, error.headers);
  sendPage(
    req,
    res,
    error.status,
    failureWording(step, reason, error.body.code),
    [`Error code: ${error.body.code}${reason ? ` (${reason})` : ""}`],
    {},
    error.headers,
  );
}

/**
 * One page: the title, what happened, what to do next, then the small print (technical details
 * and the request id, for whoever helps the person). Every value is escaped; `strong` marks the
 * business's name where the first paragraph starts with it.
 */
function sendPage(
  req: HttpRequest,
  res: HttpResponse,
  status: number,
  wording: Wording,
  details: string[],
  options: { strong?: string } = {},
  headers: Record<string, string> = {},
): void {
  const what =
    options.strong && wording.what.startsWith(options.strong)
      ? `<strong>${escapeHtml(options.strong)}</strong>${escapeHtml(wording.what.slice(options.strong.length))}`
      : escapeHtml(wording.what);
  const small = [...details, `Reference: ${requestState(req).requestId}`].map(escapeHtml).join(" · ");
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(wording.title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222;line-height:1.5}h1{font-size:1.5rem}.next{font-size:1.1rem}.small{color:#666;font-size:.8rem;margin-top:3rem;border-top:1px solid #ddd;padding-top:.5rem}</style>
</head><body><main>
<h1>${escapeHtml(wording.title)}</h1>
<p>${what}</p>
<p class="next">${escapeHtml(wording.next)}</p>
<p class="small">${small}</p>
</main></body></html>
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
