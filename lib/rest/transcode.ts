import {
  fromJson,
  ScalarType,
  toJson,
  type DescEnum,
  type DescField,
  type DescMessage,
  type JsonValue,
  type Message,
} from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { resolveFieldPath, type RestRoute } from "./http-rules.js";

/** What a REST request carries, already split by the HTTP layer. */
export interface RestRequestParts {
  /** Decoded path variables by field path (from `matchPathTemplate`). */
  params: Record<string, string>;
  query: URLSearchParams;
  /** The parsed JSON body; undefined when the request had none. */
  body: unknown;
}

/** REST JSON uses the proto field names and shows every field, zero values and empty lists included. */
export const REST_JSON_WRITE_OPTIONS = { useProtoFieldName: true, alwaysEmitImplicit: true } as const;

/** Well-known types whose JSON form is a string or a scalar, so a query parameter can carry them. */
const SCALAR_JSON_MESSAGES = new Set([
  "google.protobuf.Timestamp",
  "google.protobuf.Duration",
  "google.protobuf.FieldMask",
  "google.protobuf.StringValue",
  "google.protobuf.BytesValue",
  "google.protobuf.BoolValue",
  "google.protobuf.Int32Value",
  "google.protobuf.UInt32Value",
  "google.protobuf.Int64Value",
  "google.protobuf.UInt64Value",
  "google.protobuf.FloatValue",
  "google.protobuf.DoubleValue",
]);

const invalid = (message: string) => new ConnectError(message, Code.InvalidArgument);

/**
 * Builds the RPC's request message from a REST request, as google.api.http specifies: path
 * variables, then the body (`*` = the whole message, or one field), then query parameters for
 * the fields neither bound. Field names may be proto (`page_size`) or JSON (`pageSize`) names.
 * Anything that does not fit (malformed values, unknown fields or parameters, a value given both
 * in the path and differently in the body) is INVALID_ARGUMENT with a message saying what.
 */
export function decodeRestRequest(route: RestRoute, parts: RestRequestParts): Message {
  const input = route.method.input;
  let json: Record<string, unknown> = {};
  if (route.body === "*") {
    if (parts.body !== undefined) {
      if (!isObject(parts.body)) throw invalid(`request body must be a JSON object (${input.name})`);
      json = { ...parts.body };
    }
  } else if (route.body) {
    if (parts.body !== undefined) json[route.body] = parts.body;
  }

  const bound = new Set<string>([...route.pathFields.keys()].map((p) => canonicalPath(input, p)));
  if (route.body && route.body !== "*") bound.add(route.body);
  for (const key of new Set(parts.query.keys())) {
    if (route.body === "*") throw invalid(`query parameter "${key}" is not accepted: this route reads its fields from the JSON body`);
    const chain = resolveFieldPath(input, key);
    if (!chain) throw invalid(`unknown query parameter "${key}"`);
    const path = chain.map((f) => f.name).join(".");
    if ([...bound].some((b) => path === b || path.startsWith(`${b}.`) || b.startsWith(`${path}.`))) {
      throw invalid(`query parameter "${key}" is already bound by the path or body`);
    }
    for (const field of chain.slice(0, -1)) {
      if (field.fieldKind !== "message") throw invalid(`query parameter "${key}": "${field.name}" is not a message`);
    }
    const values = parts.query.getAll(key);
    setPath(json, chain, queryValue(key, chain[chain.length - 1], values));
  }

  for (const [fieldPath, chain] of route.pathFields) {
    const value = fromText(fieldPath, chain[chain.length - 1], parts.params[fieldPath] ?? "");
    const existing = getPath(json, chain);
    if (existing !== undefined && !sameJson(existing, value)) {
      throw invalid(`"${fieldPath}" differs between the path and the body`);
    }
    setPath(json, chain, value);
  }

  try {
    return fromJson(input, json as JsonValue, { ignoreUnknownFields: false });
  } catch (err) {
    throw invalid(`invalid request: ${(err as Error).message}`);
  }
}

/** The REST JSON of a response: the whole message, or its `response_body` field. */
export function encodeRestResponse(route: RestRoute, message: Message): JsonValue {
  const json = toJson(route.method.output, message, REST_JSON_WRITE_OPTIONS);
  if (!route.responseBody) return json;
  return (json as Record<string, JsonValue>)[route.responseBody] ?? null;
}

function canonicalPath(message: DescMessage, path: string): string {
  return (resolveFieldPath(message, path) ?? []).map((f) => f.name).join(".") || path;
}

function queryValue(key: string, field: DescField, values: string[]): unknown {
  if (field.fieldKind === "list") {
    return values.map((v) =>
      field.listKind === "message"
        ? messageText(key, field.message, v)
        : scalarOrEnum(key, field.listKind === "enum" ? field.enum : field.scalar, v),
    );
  }
  if (values.length > 1) throw invalid(`query parameter "${key}" given ${values.length} times; it takes one value`);
  return fromText(key, field, values[0]);
}

/** A path or query text as the JSON value the field takes. */
function fromText(name: string, field: DescField, text: string): unknown {
  switch (field.fieldKind) {
    case "scalar":
      return scalarOrEnum(name, field.scalar, text);
    case "enum":
      return scalarOrEnum(name, field.enum, text);
    case "message":
      return messageText(name, field.message, text);
    default:
      throw invalid(`"${name}" is a ${field.fieldKind} field and cannot be set from a URL; send it in a JSON body`);
  }
}

function messageText(name: string, message: DescMessage, text: string): unknown {
  if (!SCALAR_JSON_MESSAGES.has(message.typeName)) {
    throw invalid(`"${name}" is a ${message.name} message; set its fields as "${name}.<field>"`);
  }
  const wrapped = message.fields[0];
  return message.typeName.endsWith("Value") && wrapped.fieldKind === "scalar" ? scalarOrEnum(name, wrapped.scalar, text) : text;
}

function scalarOrEnum(name: string, type: ScalarType | DescEnum, text: string): unknown {
  if (typeof type === "object") return enumValue(name, type, text);
  switch (type) {
    case ScalarType.BOOL: {
      const lower = text.toLowerCase();
      if (lower === "true" || lower === "1") return true;
      if (lower === "false" || lower === "0") return false;
      throw invalid(`"${name}" must be true or false, got "${text}"`);
    }
    case ScalarType.STRING:
    case ScalarType.BYTES:
      return text;
    case ScalarType.FLOAT:
    case ScalarType.DOUBLE:
      if (["NaN", "Infinity", "-Infinity"].includes(text)) return text;
      if (text.trim() === "" || !Number.isFinite(Number(text))) throw invalid(`"${name}" must be a number, got "${text}"`);
      return Number(text);
    default:
      // integers: 64-bit ones stay strings (proto JSON), range is checked by fromJson
      if (!/^-?\d+$/.test(text)) throw invalid(`"${name}" must be a whole number, got "${text}"`);
      return text;
  }
}

/**
 * Enums from a URL: the full value name (`JOB_STATUS_RUNNING`), the name without the enum's
 * prefix in any case (`running`), or the number.
 */
function enumValue(name: string, desc: DescEnum, text: string): string | number {
  if (/^-?\d+$/.test(text)) return Number(text);
  const upper = text.toUpperCase();
  const found = desc.values.find(
    (v) => v.name === upper || v.name === `${desc.sharedPrefix ?? ""}${upper}` || v.localName.toUpperCase() === upper,
  );
  if (found) return found.name;
  throw invalid(`"${name}" must be one of ${desc.values.map((v) => v.name).join(", ")}; got "${text}"`);
}

function setPath(json: Record<string, unknown>, chain: DescField[], value: unknown): void {
  let target = json;
  for (const field of chain.slice(0, -1)) {
    const key = existingKey(target, field);
    const next = target[key];
    if (next === undefined || next === null) target[key] = {};
    else if (!isObject(next)) throw invalid(`"${field.name}" must be an object`);
    target = target[key] as Record<string, unknown>;
  }
  const leaf = chain[chain.length - 1];
  target[existingKey(target, leaf)] = value;
}

function getPath(json: Record<string, unknown>, chain: DescField[]): unknown {
  let target: unknown = json;
  for (const field of chain) {
    if (!isObject(target)) return undefined;
    target = target[existingKey(target, field)];
  }
  return target;
}

/** The key the body already uses for a field (proto or JSON name), so a path value never duplicates it. */
function existingKey(target: Record<string, unknown>, field: DescField): string {
  return field.jsonName in target && !(field.name in target) ? field.jsonName : field.name;
}

function sameJson(a: unknown, b: unknown): boolean {
  return String(a) === String(b);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
