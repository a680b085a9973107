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
 */
export function createRouteTable<T>(entries: readonly RouteEntry<T>[]): RouteTable<T> {
  const sorted = [...entries].sort((a, b) => b.template.specificity - a.template.specificity);
  const seen = new Set<string>();
  for (const entry of sorted) {
    const key = `${entry.httpMethod} ${entry.template.segments.map((s) => (s.kind === "literal" ? s.value : s.kind)).join("/")}:${entry.template.verb ?? ""}`;
    if (seen.has(key)) throw new Error(`two routes for ${entry.httpMethod} ${entry.template.source}`);
    seen.add(key);
  }
  return {
    entries: sorted,
    match(httpMethod, path) {
      const verb = httpMethod === "HEAD" ? "GET" : httpMethod;
      const allowed = new Set<string>();
      for (const entry of sorted) {
        const params = matchPathTemplate(entry.template, path);
        if (!params) continue;
        if (entry.httpMethod === verb) return { kind: "found", value: entry.value, template: entry.template, params };
        allowed.add(entry.httpMethod);
      }
      return allowed.size > 0 ? { kind: "method_not_allowed", allowed: [...allowed] } : { kind: "not_found" };
    },
  };
}
