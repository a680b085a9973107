/**
 * `google.api.http` path templates (google/api/http.proto, "Path template syntax"):
 *
 *     Template = "/" Segments [ Verb ] ;  Segment = "*" | "**" | LITERAL | Variable ;
 *     Variable = "{" FieldPath [ "=" Segments ] "}" ;  Verb = ":" LITERAL ;
 *
 * `{id}` is short for `{id=*}`: one segment. `**` matches the rest of the path and may only come
 * last. A single-segment variable's value is percent-decoded in full (`%2F` becomes `/`); a
 * multi-segment one keeps its slashes and decodes everything else, as the spec asks.
 */
export interface PathTemplate {
  /** The template as written in the annotation, e.g. `/api/v1/jobs/{job_id}`. */
  readonly source: string;
  readonly segments: readonly TemplateSegment[];
  readonly variables: readonly TemplateVariable[];
  readonly verb: string | undefined;
  /** The same path in OpenAPI form (`{field.path}` placeholders). */
  readonly openApiPath: string;
  /** Literal segments first: when two templates match a path, the more literal one wins. */
  readonly specificity: number;
}

export type TemplateSegment = { kind: "literal"; value: string } | { kind: "wildcard" } | { kind: "rest" };

export interface TemplateVariable {
  /** Dotted field path, e.g. `job_id` or `shelf.name`. */
  fieldPath: string;
  /** Index of the first segment the variable spans, and how many (Infinity for `**`). */
  start: number;
  end: number;
}

export class PathTemplateError extends Error {
  constructor(template: string, reason: string) {
    super(`path template "${template}": ${reason}`);
    this.name = "PathTemplateError";
  }
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

export function parsePathTemplate(source: string): PathTemplate {
  if (!source.startsWith("/")) throw new PathTemplateError(source, "must start with /");
  let body = source.slice(1);
  let verb: string | undefined;
  // the verb is a ":" after the last "/" that is not inside a variable's braces
  const lastSlash = body.lastIndexOf("/");
  const colon = body.indexOf(":", lastSlash + 1);
  if (colon >= 0 && !body.slice(colon).includes("}")) {
    verb = body.slice(colon + 1);
    body = body.slice(0, colon);
    if (!verb) throw new PathTemplateError(source, "empty verb");
  }
  const segments: TemplateSegment[] = [];
  const variables: TemplateVariable[] = [];
  const openApi: string[] = [];
  for (const part of splitOutsideBraces(source, body)) {
    if (part.startsWith("{")) {
      if (!part.endsWith("}")) throw new PathTemplateError(source, `unclosed variable "${part}"`);
      const inner = part.slice(1, -1);
      const eq = inner.indexOf("=");
      const fieldPath = eq >= 0 ? inner.slice(0, eq) : inner;
      if (!IDENT.test(fieldPath)) throw new PathTemplateError(source, `bad field path "${fieldPath}"`);
      if (variables.some((v) => v.fieldPath === fieldPath)) throw new PathTemplateError(source, `"${fieldPath}" bound twice`);
      const start = segments.length;
      const sub = eq >= 0 ? inner.slice(eq + 1).split("/") : ["*"];
      for (const s of sub) segments.push(parseSegment(source, s));
      variables.push({ fieldPath, start, end: segments.at(-1)?.kind === "rest" ? Infinity : segments.length });
      openApi.push(`{${fieldPath}}`);
    } else {
      segments.push(parseSegment(source, part));
      openApi.push(part);
    }
  }
  const restAt = segments.findIndex((s) => s.kind === "rest");
  if (restAt >= 0 && restAt !== segments.length - 1) throw new PathTemplateError(source, "** must be the last segment");
  const specificity = segments.reduce((n, s) => n + (s.kind === "literal" ? 1000 : s.kind === "wildcard" ? 10 : 0), 0) + (verb ? 1 : 0);
  return { source, segments, variables, verb, openApiPath: `/${openApi.join("/")}${verb ? `:${verb}` : ""}`, specificity };
}

function parseSegment(source: string, text: string): TemplateSegment {
  if (text === "*") return { kind: "wildcard" };
  if (text === "**") return { kind: "rest" };
  if (!text || /[{}*]/.test(text)) throw new PathTemplateError(source, `bad segment "${text}"`);
  return { kind: "literal", value: text };
}

function splitOutsideBraces(source: string, body: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = "";
  for (const ch of body) {
    if (ch === "{") depth++;
    if (ch === "}") depth--;
    if (depth < 0 || depth > 1) throw new PathTemplateError(source, "unbalanced braces");
    if (ch === "/" && depth === 0) {
      parts.push(current);
      current = "";
    } else {
      current += ch;
    }
  }
  if (depth !== 0) throw new PathTemplateError(source, "unbalanced braces");
  parts.push(current);
  return parts;
}

/** Thrown by `matchPathTemplate` for a path that matches but cannot be decoded (bad %-escape). */
export class PathDecodeError extends Error {}

/**
 * Matches a request path (without query) against a template. Returns the variables' decoded
 * values by field path, or undefined when the path does not fit.
 */
export function matchPathTemplate(template: PathTemplate, path: string): Record<string, string> | undefined {
  let rest = path.startsWith("/") ? path.slice(1) : path;
  if (template.verb !== undefined) {
    const suffix = `:${template.verb}`;
    if (!rest.endsWith(suffix)) return undefined;
    rest = rest.slice(0, -suffix.length);
  }
  const parts = rest.split("/");
  const { segments } = template;
  const hasRest = segments.at(-1)?.kind === "rest";
  if (hasRest ? parts.length < segments.length - 1 : parts.length !== segments.length) return undefined;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    if (segment.kind === "rest") break;
    const part = parts[i];
    if (part === "") return undefined;
    if (segment.kind === "literal" && safeDecode(part) !== segment.value) return undefined;
  }
  const values: Record<string, string> = {};
  for (const variable of template.variables) {
    const covered = parts.slice(variable.start, variable.end === Infinity ? undefined : variable.end);
    values[variable.fieldPath] =
      covered.length === 1 ? decodeOrThrow(covered[0]) : covered.map((p) => decodeOrThrow(p).replaceAll("/", "%2F")).join("/");
  }
  return values;
}

function safeDecode(part: string): string | undefined {
  try {
    return decodeURIComponent(part);
  } catch {
    return undefined;
  }
}

function decodeOrThrow(part: string): string {
  const decoded = safeDecode(part);
  if (decoded === undefined) throw new PathDecodeError(`bad percent-encoding in path segment "${part}"`);
  return decoded;
}
