// REST transcoding from `google.api.http` annotations for connect-node (no library does it, see
// DESIGN.md), and the OpenAPI document of the same routes.
export { restError, restErrorOf, type RestError, type RestErrorBody } from "./errors.js";
export { collectRestRoutes, HttpRuleError, resolveFieldPath, type RestRoute } from "./http-rules.js";
export { createSchemaBuilder, type Schema, type SchemaBuilder } from "./json-schema.js";
export { createOpenApiDocument, type OpenApiOptions } from "./openapi.js";
export { matchPathTemplate, parsePathTemplate, PathDecodeError, PathTemplateError, type PathTemplate } from "./path-template.js";
export { loadProtoComments, PROTO_COMMENTS_FILES, type ProtoComments } from "./proto-comments.js";
export { createRouteTable, type RouteEntry, type RouteMatch, type RouteTable } from "./route-table.js";
export { decodeRestRequest, encodeRestResponse, REST_JSON_WRITE_OPTIONS, type RestRequestParts } from "./transcode.js";
