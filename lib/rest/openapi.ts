import type { DescField, DescMessage } from "@bufbuild/protobuf";
import { rpcOptions } from "../rpc/rpc-options.js";
import type { RestRoute } from "./http-rules.js";
import { createSchemaBuilder, type Schema } from "./json-schema.js";
import type { ProtoComments } from "./proto-comments.js";

export interface OpenApiOptions {
  title: string;
  version: string;
  description?: string;
  routes: readonly RestRoute[];
  comments: ProtoComments;
  /**
   * The success responses of a route whose answer is not the response message as JSON
   * (redirects, HTML pages, event streams); undefined keeps the default. `json` is the schema
   * of the JSON answer the default would document.
   */
  successResponses?: (route: RestRoute, json: Schema) => Record<string, unknown> | undefined;
  /** Hand-written paths (health, metrics, …) merged into the document. */
  extraPaths?: Record<string, Record<string, unknown>>;
  servers?: { url: string; description?: string }[];
}

/**
 * The OpenAPI 3.1 document of a REST surface, derived from the same `google.api.http` routes the
 * transcoder serves: path and query parameters from the request fields, bodies and responses
 * from the message descriptors, descriptions from the proto comments, the success status and
 * the operations open without an API key from the rpcs' own options (lib/rpc/rpc-options.ts).
 */
export function createOpenApiDocument(options: OpenApiOptions): Record<string, unknown> {
  const schemas = createSchemaBuilder(options.comments);
  const paths: Record<string, Record<string, unknown>> = {};
  const tags = new Map<string, string | undefined>();
  for (const route of options.routes) {
    const { service, method } = route;
    tags.set(service.name, options.comments.get(service.typeName));
    const rpc = rpcOptions(method);
    const doc = options.comments.get(`${service.typeName}.${method.name}`) ?? "";
    const bound = new Set([...route.pathFields.values()].map((chain) => chain[0].name));
    if (route.body && route.body !== "*") bound.add(route.body);

    const parameters: unknown[] = [...route.pathFields].map(([fieldPath, chain]) => {
      const param = { name: fieldPath, in: "path", required: true, ...describe(schemas.fieldSchema(chain[chain.length - 1])) } as Record<
        string,
        unknown
      >;
      const variable = route.template.variables.find((v) => v.fieldPath === fieldPath);
      if (variable && variable.end - variable.start !== 1) {
        // `{name=accounts/*/…}`: one OpenAPI parameter that spans several path segments
        const spanned = route.template.segments.slice(variable.start, variable.end === Infinity ? undefined : variable.end);
        const shape = spanned.map((s) => (s.kind === "literal" ? s.value : s.kind === "wildcard" ? "*" : "**")).join("/");
        const note = `Spans several path segments (\`${shape}\`): send its slashes as they are, or percent-encoded as \`%2F\`.`;
        param.description = param.description ? `${String(param.description)}\n\n${note}` : note;
      }
      return param;
    });
    if (route.body !== "*") {
      for (const [name, field] of queryFields(method.input, bound)) {
        const schema = schemas.fieldSchema(field);
        parameters.push({
          name,
          in: "query",
          required: false,
          ...describe(schema),
          ...(field.fieldKind === "list" ? { explode: true } : {}),
        });
      }
    }

    const operation: Record<string, unknown> = {
      operationId: `${service.name}_${method.name}${route.bindingIndex ? `_${route.bindingIndex}` : ""}`,
      tags: [service.name],
      summary: firstSentence(doc) || method.name,
      description: `${doc}\n\nRPC: \`${service.typeName}/${method.name}\`${route.bindingIndex ? " (alternative path)" : ""}.`.trim(),
    };
    if (parameters.length > 0) operation.parameters = parameters;
    if (route.body) {
      const bodySchema =
        route.body === "*"
          ? route.pathFields.size > 0
            ? schemas.partialMessage(method.input, (f) => !bound.has(f.name))
            : schemas.messageRef(method.input)
          : schemas.fieldSchema(method.input.fields.find((f) => f.name === route.body)!);
      operation.requestBody = { required: true, content: { "application/json": { schema: bodySchema } } };
    }
    const output = route.responseBody
      ? schemas.fieldSchema(method.output.fields.find((f) => f.name === route.responseBody)!)
      : schemas.messageRef(method.output);
    const success = options.successResponses?.(route, output) ?? {
      [String(rpc.httpSuccessStatus)]: {
        description: firstSentence(options.comments.get(method.output.typeName) ?? "") || method.output.name,
        content: { "application/json": { schema: output } },
      },
    };
    operation.responses = {
      ...success,
      ...(rpc.noApiKey
        ? {}
        : { "401": { $ref: "#/components/responses/Unauthenticated" }, "403": { $ref: "#/components/responses/PermissionDenied" } }),
      "429": { $ref: "#/components/responses/ResourceExhausted" },
      default: { $ref: "#/components/responses/Error" },
    };
    if (rpc.noApiKey) operation.security = [];
    (paths[route.template.openApiPath] ??= {})[route.httpMethod.toLowerCase()] = operation;
  }
  for (const [path, ops] of Object.entries(options.extraPaths ?? {})) paths[path] = { ...(paths[path] ?? {}), ...ops };

  const errorContent = { "application/json": { schema: { $ref: "#/components/schemas/Error" } } };
  return {
    openapi: "3.1.0",
    info: { title: options.title, version: options.version, ...(options.description ? { description: options.description } : {}) },
    ...(options.servers ? { servers: options.servers } : {}),
    tags: [...tags].map(([name, description]) => ({ name, ...(description ? { description } : {}) })),
    security: [{ apiKey: [] }],
    paths,
    components: {
      securitySchemes: {
        apiKey: { type: "http", scheme: "bearer", description: "`Authorization: Bearer <api key>`" },
      },
      schemas: {
        Error: {
          type: "object",
          required: ["code", "message"],
          properties: {
            code: { type: "string", description: "The Connect error code, e.g. `invalid_argument`, `not_found`, `resource_exhausted`." },
            message: { type: "string", description: "What went wrong, for a person to read." },
          },
        },
        ...schemas.components,
      },
      responses: {
        Error: { description: "An error; the HTTP status follows Connect's code mapping.", content: errorContent },
        Unauthenticated: { description: "Missing, malformed or revoked API key.", content: errorContent },
        PermissionDenied: { description: "The key's role or tenant may not do this.", content: errorContent },
        ResourceExhausted: {
          description: "Too many requests; retry after the `Retry-After` header's seconds.",
          headers: { "Retry-After": { schema: { type: "integer" }, description: "Seconds to wait." } },
          content: errorContent,
        },
      },
    },
  };
}

/** Request fields a URL can carry, flattened with dots through nested messages (not through lists or maps). */
function queryFields(message: DescMessage, bound: Set<string>, prefix = "", depth = 0): [string, DescField][] {
  const out: [string, DescField][] = [];
  for (const field of message.fields) {
    const name = `${prefix}${field.name}`;
    if (bound.has(name)) continue;
    if (field.fieldKind === "map" || (field.fieldKind === "list" && field.listKind === "message")) continue;
    if (field.fieldKind === "message" && !field.message.typeName.startsWith("google.protobuf.")) {
      if (depth < 3) out.push(...queryFields(field.message, bound, `${name}.`, depth + 1));
      continue;
    }
    out.push([name, field]);
  }
  return out;
}

function describe(schema: Schema): Schema {
  const { description, ...rest } = schema;
  return description ? { description, schema: rest } : { schema: rest };
}

function firstSentence(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  const match = /^(.+?[.!?])(\s|$)/.exec(flat);
  return match ? match[1] : flat;
}
