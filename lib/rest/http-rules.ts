import { getOption, hasOption, type DescField, type DescMessage, type DescMethod, type DescService } from "@bufbuild/protobuf";
import { http } from "../../gen/google/api/annotations_pb.js";
import type { HttpRule } from "../../gen/google/api/http_pb.js";
import { parsePathTemplate, type PathTemplate } from "./path-template.js";

/**
 * One REST binding of an RPC, read from its `google.api.http` annotation: the primary rule and
 * each of its `additional_bindings` become one route each. The proto is the single source of truth.
 */
export interface RestRoute {
  readonly service: DescService;
  readonly method: DescMethod;
  /** Upper-case HTTP verb (GET, POST, …; a `custom` rule's kind as written). */
  readonly httpMethod: string;
  readonly template: PathTemplate;
  /** "" (no body), "*" (the whole request), or the name of the request field the body fills. */
  readonly body: string;
  /** "" (the whole response) or the response field that becomes the body. */
  readonly responseBody: string;
  /** The request fields each path variable fills, by field path. */
  readonly pathFields: ReadonlyMap<string, DescField[]>;
  /** 0 for the primary rule, 1.. for additional bindings. */
  readonly bindingIndex: number;
}

export class HttpRuleError extends Error {
  constructor(method: DescMethod, reason: string) {
    super(`${method.parent.typeName}/${method.name}: google.api.http: ${reason}`);
    this.name = "HttpRuleError";
  }
}

/** Every REST route of `services`, in declaration order. Methods without the annotation have none. */
export function collectRestRoutes(services: readonly DescService[]): RestRoute[] {
  const routes: RestRoute[] = [];
  for (const service of services) {
    for (const method of service.methods) {
      if (!hasOption(method, http)) continue;
      const rule = getOption(method, http);
      routes.push(toRoute(service, method, rule, 0));
      rule.additionalBindings.forEach((binding, i) => {
        // per http.proto, additional bindings must not nest further
        if (binding.additionalBindings.length > 0) throw new HttpRuleError(method, "nested additional_bindings");
        routes.push(toRoute(service, method, binding, i + 1));
      });
    }
  }
  return routes;
}

function toRoute(service: DescService, method: DescMethod, rule: HttpRule, bindingIndex: number): RestRoute {
  const { httpMethod, path } = verbAndPath(method, rule);
  let template: PathTemplate;
  try {
    template = parsePathTemplate(path);
  } catch (err) {
    throw new HttpRuleError(method, (err as Error).message);
  }
  const pathFields = new Map<string, DescField[]>();
  for (const variable of template.variables) {
    const fields = resolveFieldPath(method.input, variable.fieldPath);
    if (!fields) throw new HttpRuleError(method, `path variable "${variable.fieldPath}" names no field of ${method.input.typeName}`);
    const leaf = fields[fields.length - 1];
    if (leaf.fieldKind !== "scalar" && leaf.fieldKind !== "enum") {
      throw new HttpRuleError(method, `path variable "${variable.fieldPath}" must be a scalar or enum field`);
    }
    pathFields.set(variable.fieldPath, fields);
  }
  if (rule.body && rule.body !== "*" && !method.input.fields.some((f) => f.name === rule.body)) {
    throw new HttpRuleError(method, `body "${rule.body}" names no field of ${method.input.typeName}`);
  }
  if (rule.responseBody && !method.output.fields.some((f) => f.name === rule.responseBody)) {
    throw new HttpRuleError(method, `response_body "${rule.responseBody}" names no field of ${method.output.typeName}`);
  }
  if (rule.body && httpMethod === "GET") throw new HttpRuleError(method, "GET cannot have a body");
  return { service, method, httpMethod, template, body: rule.body, responseBody: rule.responseBody, pathFields, bindingIndex };
}

function verbAndPath(method: DescMethod, rule: HttpRule): { httpMethod: string; path: string } {
  switch (rule.pattern.case) {
    case "get":
    case "put":
    case "post":
    case "delete":
    case "patch":
      return { httpMethod: rule.pattern.case.toUpperCase(), path: rule.pattern.value };
    case "custom":
      return { httpMethod: rule.pattern.value.kind.toUpperCase(), path: rule.pattern.value.path };
    default:
      throw new HttpRuleError(method, "no pattern (get, put, post, delete, patch or custom)");
  }
}

/**
 * The chain of fields a dotted path names, by proto name or JSON name, through singular message
 * fields; undefined when any step does not exist.
 */
export function resolveFieldPath(message: DescMessage, path: string): DescField[] | undefined {
  const chain: DescField[] = [];
  let current: DescMessage | undefined = message;
  for (const name of path.split(".")) {
    if (!current) return undefined;
    const field: DescField | undefined = current.fields.find((f) => f.name === name || f.jsonName === name);
    if (!field) return undefined;
    chain.push(field);
    current = field.fieldKind === "message" ? field.message : undefined;
  }
  return chain;
}
