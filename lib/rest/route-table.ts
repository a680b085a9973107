import { matchPathTemplate, type PathTemplate } from "./path-template.js";

export interface RouteEntry<T> {
  httpMethod: string;
  template: PathTemplate;
  value: T;
}

export type RouteMatch<T> =
  | { kind: "found"; value: T; template: PathTemplate; params: Record<string, string> }
  /** The path exists, but not for this HTTP method: answer 405 with `Allow`. */
  | { kind: "method_not_allowed"; allowed: string[] }
  | { kind: "not_found" };

export interface RouteTable<T> {
  match(httpMethod: string, path: string): RouteMatch<T>;
  readonly entries: readonly RouteEntry<T>[];
}

/**
 * Finds the route for a request. When several templates match a path (`/branches/{id}` and
 * `/branches/by-branch-id/{branch_id}` never do, but `/a/{x}` and `/a/b` would), the one with
 * more literal segments wins, so declaration order never matters. HEAD is answered as GET.
 *
 * A multi-segment variable (the `name` of `/api/v1/{name=accounts/…/reviews/…}/versions`) is one
 * parameter to an OpenAPI client, which therefore sends its slashes percent-encoded
 * (`accounts%2F1%2Flocations%2F2%2Freviews%2F3`). A path that matches no template as sent is
 * tried once more with `%2F` read as `/`, against the templates with such variables only, so a
 * path that matches as sent is never routed otherwise.
 */
export function createRouteTable<T>(entries: readonly RouteEntry<T>[]): RouteTable<T> {
  const sorted = [...entries].sort((a, b) => b.template.specificity - a.template.specificity);
  const seen = new Set<string>();
  for (const entry of sorted) {
    const key = `${entry.httpMethod} ${entry.template.segments.map((s) => (s.kind === "literal" ? s.value : s.kind)).join("/")}:${entry.template.verb ?? ""}`;
    if (seen.has(key)) throw new Error(`two routes for ${entry.httpMethod} ${entry.template.source}`);
    seen.add(key);
  }
  const multiSegment = sorted.filter((entry) => entry.template.variables.some((v) => v.end - v.start !== 1));
  const all = byFirstSegment(sorted);
  const multi = byFirstSegment(multiSegment);
  return {
    entries: sorted,
    match(httpMethod, path) {
      const verb = httpMethod === "HEAD" ? "GET" : httpMethod;
      const found = find(all(path), verb, path);
      if (found.kind !== "not_found" || multiSegment.length === 0 || !/%2f/i.test(path)) return found;
      const unescaped = path.replace(/%2f/gi, "/");
      return find(multi(unescaped), verb, unescaped);
    },
  };
}

/**
 * The entries that can match a path, by its first segment: those whose template starts with that
 * literal, and those starting with a variable or wildcard, still in specificity order. A template
 * starting with another literal can never match, so trying only these finds the same route as
 * trying all (the table is consulted on every REST request; most templates start with a literal).
 */
function byFirstSegment<T>(sorted: readonly RouteEntry<T>[]): (path: string) => readonly RouteEntry<T>[] {
  const open = sorted.filter((entry) => entry.template.segments[0]?.kind !== "literal");
  const byLiteral = new Map<string, RouteEntry<T>[]>();
  for (const entry of sorted) {
    const first = entry.template.segments[0];
    if (first?.kind === "literal" && !byLiteral.has(first.value)) {
      byLiteral.set(
        first.value,
        sorted.filter(
          (e) => e.template.segments[0]?.kind !== "literal" || (e.template.segments[0] as { value: string }).value === first.value,
        ),
      );
    }
  }
  return (path) => {
    const start = path.startsWith("/") ? 1 : 0;
    const slash = path.indexOf("/", start);
    let first = path.slice(start, slash < 0 ? undefined : slash);
    // literal segments are compared decoded (matchPathTemplate), and a verb may follow the only segment
    if (first.includes("%")) first = safeDecode(first) ?? first;
    return byLiteral.get(first) ?? (slash < 0 && first.includes(":") ? sorted : open);
  };
}

function safeDecode(part: string): string | undefined {
  try {
    return decodeURIComponent(part);
  } catch {
    return undefined;
  }
}

function find<T>(entries: readonly RouteEntry<T>[], verb: string, path: string): RouteMatch<T> {
  const allowed = new Set<string>();
  for (const entry of entries) {
    const params = matchPathTemplate(entry.template, path);
    if (!params) continue;
    if (entry.httpMethod === verb) return { kind: "found", value: entry.value, template: entry.template, params };
    allowed.add(entry.httpMethod);
  }
  return allowed.size > 0 ? { kind: "method_not_allowed", allowed: [...allowed] } : { kind: "not_found" };
}
