import { createOpenApiDocument, loadProtoComments, type RestRoute, type Schema } from "../../lib/rest/index.js";
import { BrowserPage, rpcOptions } from "../../lib/rpc/index.js";
import { sseField } from "./sse.js";

const html = (description: string) => ({ description, content: { "text/html": { schema: { type: "string" } } } });

/**
 * Where the gateway's answers differ from "the response message as JSON": the consent pages (the
 * rpcs' `browser_page` option; oauth-pages.ts) and server streams (Server-Sent Events; sse.ts).
 */
function successResponses(route: RestRoute, json: Schema): Record<string, unknown> | undefined {
  if (route.method.methodKind === "server_streaming") {
    const field = sseField(route.method.output);
    return {
      "200": {
        description:
          `Server-Sent Events until the stream ends: \`event: ${field?.name ?? "message"}\` with ${field ? `each message's \`${field.name}\`` : "each message"} as JSON, ` +
          "`: keep-alive` comments while idle, `event: error` if the stream fails, and a final `event: end`.",
        content: { "text/event-stream": { schema: { type: "string" } } },
      },
    };
  }
  switch (rpcOptions(route.method).browserPage) {
    case BrowserPage.CONSENT_START:
      return {
        "302": { description: "Redirect to Google's consent page.", headers: { Location: { schema: { type: "string", format: "uri" } } } },
        "200": {
          description: "With `Accept: application/json`: the consent URL instead of a redirect.",
          content: {
            "application/json": { schema: { type: "object", properties: { authorization_url: { type: "string", format: "uri" } } } },
          },
        },
      };
    case BrowserPage.CONSENT_RESULT:
      return {
        "200": {
          ...html("A page naming the client now connected; the response message as JSON with `Accept: application/json`."),
          content: { "text/html": { schema: { type: "string" } }, "application/json": { schema: json } },
        },
        "400": html("Consent declined at Google, or the state is unknown, used or expired."),
      };
    default:
      return undefined;
  }
}

const EXTRA_PATHS: Record<string, Record<string, unknown>> = {
  "/health": {
    get: {
      operationId: "Gateway_Health",
      tags: ["Operations"],
      summary: "Liveness: the gateway process answers.",
      security: [],
      responses: { "200": { description: "Alive." } },
    },
  },
  "/ready": {
    get: {
      operationId: "Gateway_Ready",
      tags: ["Operations"],
      summary: "Readiness: Postgres, NATS and both services answer.",
      security: [],
      responses: {
        "200": { description: "Ready, with each check's result." },
        "503": { description: "Not ready; the checks say which dependency failed." },
      },
    },
  },
  "/metrics": {
    get: {
      operationId: "Gateway_Metrics",
      tags: ["Operations"],
      summary: "Prometheus metrics (text format).",
      security: [],
      responses: { "200": { description: "Metrics.", content: { "text/plain": { schema: { type: "string" } } } } },
    },
  },
  "/docs": {
    get: {
      operationId: "Gateway_Docs",
      tags: ["Operations"],
      summary: "This document in Swagger UI (served from the gateway, works offline).",
      security: [],
      responses: { "200": html("The API docs page.") },
    },
  },
  "/openapi.json": {
    get: {
      operationId: "Gateway_OpenApi",
      tags: ["Operations"],
      summary: "This document.",
      security: [],
      responses: { "200": { description: "OpenAPI 3.1 document." } },
    },
  },
};

/** The gateway's OpenAPI document, derived once at start-up from the same routes it serves. */
export function buildGatewayOpenApi(routes: readonly RestRoute[], publicUrl: string): Record<string, unknown> {
  return createOpenApiDocument({
    title: "reviewflow gateway",
    version: "1.0.0",
    description:
      "REST/JSON surface of reviewflow's TokenService and ReviewFetcher, derived from the `google.api.http` annotations of the contracts. " +
      "Every call presents `Authorization: Bearer <api key>` except the consent pages. The same RPCs are also served over Connect, gRPC and gRPC-Web at `/<package>.<Service>/<Method>`.",
    routes,
    comments: loadProtoComments(),
    successResponses,
    extraPaths: EXTRA_PATHS,
    servers: [{ url: publicUrl }],
  });
}
