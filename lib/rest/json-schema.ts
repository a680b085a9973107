import { getOption, hasOption, ScalarType, type DescEnum, type DescField, type DescMessage } from "@bufbuild/protobuf";
import { field as validateField, type FieldRules } from "../../gen/buf/validate/validate_pb.js";
import type { ProtoComments } from "./proto-comments.js";

/** A JSON Schema object as OpenAPI 3.1 uses it (kept loose on purpose: it is written, not read). */
export type Schema = Record<string, unknown>;

/**
 * JSON Schemas for proto messages in their REST JSON form (proto field names, enums by name,
 * 64-bit integers as strings, well-known types in their JSON shapes), with the proto comments as
 * descriptions and the protovalidate rules as constraints. Messages and enums become named
 * components (`#/components/schemas/<full name>`), each written once.
 */
export interface SchemaBuilder {
  /** A reference to the message's component, creating it (and what it uses) on first use. */
  messageRef(message: DescMessage): Schema;
  fieldSchema(field: DescField): Schema;
  /** An object schema of some of a message's fields (a body without its path-bound fields). */
  partialMessage(message: DescMessage, include: (field: DescField) => boolean): Schema;
  readonly components: Record<string, Schema>;
}

const WELL_KNOWN: Record<string, Schema> = {
  "google.protobuf.Timestamp": { type: "string", format: "date-time", description: "RFC 3339 time, e.g. `2026-01-01T00:00:00Z`." },
  "google.protobuf.Duration": {
    type: "string",
    pattern: "^-?[0-9]+(\\.[0-9]+)?s$",
    description: "Seconds with an `s` suffix, e.g. `1.5s`.",
  },
  "google.protobuf.FieldMask": { type: "string", description: "Comma-separated field paths." },
  "google.protobuf.Struct": { type: "object", additionalProperties: true },
  "google.protobuf.Value": {},
  "google.protobuf.ListValue": { type: "array", items: {} },
  "google.protobuf.Empty": { type: "object" },
  "google.protobuf.Any": { type: "object", properties: { "@type": { type: "string" } }, additionalProperties: true },
  "google.protobuf.StringValue": { type: ["string", "null"] },
  "google.protobuf.BytesValue": { type: ["string", "null"], contentEncoding: "base64" },
  "google.protobuf.BoolValue": { type: ["boolean", "null"] },
  "google.protobuf.Int32Value": { type: ["integer", "null"], format: "int32" },
  "google.protobuf.UInt32Value": { type: ["integer", "null"], minimum: 0 },
  "google.protobuf.Int64Value": { type: ["string", "null"], format: "int64" },
  "google.protobuf.UInt64Value": { type: ["string", "null"], format: "uint64" },
  "google.protobuf.FloatValue": { type: ["number", "null"], format: "float" },
  "google.protobuf.DoubleValue": { type: ["number", "null"], format: "double" },
};

export function createSchemaBuilder(comments: ProtoComments): SchemaBuilder {
  const components: Record<string, Schema> = {};
  const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });

  function enumRef(desc: DescEnum): Schema {
    if (!components[desc.typeName]) {
      const valueDocs = desc.values
        .map((v) => ({ name: v.name, doc: comments.get(`${desc.typeName}.${v.name}`) }))
        .filter((v) => v.doc)
        .map((v) => `- \`${v.name}\`: ${v.doc}`);
      components[desc.typeName] = withDescription(
        { type: "string", enum: desc.values.map((v) => v.name) },
        [comments.get(desc.typeName), valueDocs.join("\n")].filter(Boolean).join("\n\n"),
      );
    }
    return ref(desc.typeName);
  }

  function messageRef(message: DescMessage): Schema {
    const known = WELL_KNOWN[message.typeName];
    if (known) return { ...known };
    if (!components[message.typeName]) {
      components[message.typeName] = {}; // placeholder first: messages may refer to themselves
      components[message.typeName] = withDescription(
        objectOf(message, () => true),
        comments.get(message.typeName),
      );
    }
    return ref(message.typeName);
  }

  function objectOf(message: DescMessage, include: (field: DescField) => boolean): Schema {
    const properties: Record<string, Schema> = {};
    for (const field of message.fields) if (include(field)) properties[field.name] = fieldSchema(field);
    return { type: "object", properties, additionalProperties: false };
  }

  function valueSchema(kind: { scalar?: ScalarType; enum?: DescEnum; message?: DescMessage }): Schema {
    if (kind.enum) return enumRef(kind.enum);
    if (kind.message) return messageRef(kind.message);
    return scalarSchema(kind.scalar ?? ScalarType.STRING);
  }

  function fieldSchema(field: DescField): Schema {
    let schema: Schema;
    switch (field.fieldKind) {
      case "scalar":
        schema = scalarSchema(field.scalar);
        break;
      case "enum":
        schema = enumRef(field.enum);
        break;
      case "message":
        schema = messageRef(field.message);
        break;
      case "list":
        schema = { type: "array", items: valueSchema(field) };
        break;
      case "map":
        schema = {
          type: "object",
          additionalProperties: valueSchema({
            scalar: field.mapKind === "scalar" ? field.scalar : undefined,
            enum: field.enum,
            message: field.message,
          }),
        };
        break;
    }
    Object.assign(schema, constraints(field));
    const notes = [comments.get(`${field.parent.typeName}.${field.name}`)];
    if (field.oneof) {
      notes.push(`One of \`${field.oneof.name}\`: set at most one of ${field.oneof.fields.map((f) => `\`${f.name}\``).join(", ")}.`);
    }
    if (field.deprecated) schema.deprecated = true;
    return withDescription(schema, notes.filter(Boolean).join(" "));
  }

  return {
    messageRef,
    fieldSchema,
    partialMessage: (message, include) => withDescription(objectOf(message, include), comments.get(message.typeName)),
    components,
  };
}

function scalarSchema(scalar: ScalarType): Schema {
  switch (scalar) {
    case ScalarType.STRING:
      return { type: "string" };
    case ScalarType.BOOL:
      return { type: "boolean" };
    case ScalarType.BYTES:
      return { type: "string", contentEncoding: "base64" };
    case ScalarType.DOUBLE:
      return { type: "number", format: "double" };
    case ScalarType.FLOAT:
      return { type: "number", format: "float" };
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return { type: "integer", format: "int32" };
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return { type: "integer", format: "int64", minimum: 0 };
    default:
      // proto JSON writes 64-bit integers as decimal strings (they exceed a double's precision)
      return {
        type: "string",
        format: scalar === ScalarType.UINT64 || scalar === ScalarType.FIXED64 ? "uint64" : "int64",
        pattern: "^-?[0-9]+$",
      };
  }
}

/** The protovalidate rules that JSON Schema can say: lengths, patterns, formats, ranges, item counts. */
function constraints(field: DescField): Schema {
  if (!hasOption(field, validateField)) return {};
  const rules: FieldRules = getOption(field, validateField);
  const out: Schema = {};
  const type = rules.type;
  if (type.case === "string") {
    const s = type.value;
    if (s.minLen) out.minLength = Number(s.minLen);
    if (s.maxLen) out.maxLength = Number(s.maxLen);
    if (s.pattern) out.pattern = s.pattern;
    if (s.in.length > 0) out.enum = [...s.in];
    const formats: Record<string, string> = {
      uuid: "uuid",
      email: "email",
      uri: "uri",
      uriRef: "uri-reference",
      hostname: "hostname",
      ipv4: "ipv4",
      ipv6: "ipv6",
    };
    if (s.wellKnown.case && formats[s.wellKnown.case]) out.format = formats[s.wellKnown.case];
  } else if (type.case === "int32" || type.case === "uint32" || type.case === "sint32" || type.case === "double" || type.case === "float") {
    const n = type.value;
    if (n.greaterThan.case === "gte") out.minimum = Number(n.greaterThan.value);
    if (n.greaterThan.case === "gt") out.exclusiveMinimum = Number(n.greaterThan.value);
    if (n.lessThan.case === "lte") out.maximum = Number(n.lessThan.value);
    if (n.lessThan.case === "lt") out.exclusiveMaximum = Number(n.lessThan.value);
  } else if (type.case === "repeated") {
    if (type.value.minItems) out.minItems = Number(type.value.minItems);
    if (type.value.maxItems) out.maxItems = Number(type.value.maxItems);
  }
  if (rules.required) out["x-required"] = true;
  return out;
}

function withDescription(schema: Schema, description: string | undefined): Schema {
  return description ? { ...schema, description } : schema;
}
