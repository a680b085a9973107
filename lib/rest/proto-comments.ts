import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

/**
 * Leading comments of a .proto's messages, fields, enums, enum values, services and rpcs, keyed
 * by fully-qualified name (`reviewflow.token.v1.TokenService.CreateClient`,
 * `reviewflow.token.v1.CreateClientRequest.name`, `reviewflow.fetcher.v1.JobStatus.JOB_STATUS_QUEUED`).
 *
 * Why parse source: protoc-gen-es embeds descriptors without `source_code_info`, so the comments
 * the OpenAPI document shows as descriptions are not in `gen/` at run time. This reads the
 * contracts in `proto/` instead: a small tokenizer, enough for the protobuf language's
 * declarations (options, aggregates in `[...]` and `{...}` are skipped as balanced groups).
 */
export type ProtoComments = ReadonlyMap<string, string>;

/** Comments of every `.proto` file under `roots` (missing roots are skipped: comments are optional). */
export function loadProtoComments(roots: string[]): ProtoComments {
  const comments = new Map<string, string>();
  for (const root of roots) {
    for (const file of listProtoFiles(root)) {
      for (const [name, text] of parseProtoComments(readFileSync(file, "utf8"))) comments.set(name, text);
    }
  }
  return comments;
}

function listProtoFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return listProtoFiles(path);
    return name.endsWith(".proto") ? [path] : [];
  });
}

interface Token {
  text: string;
  /** The comment block directly above the token (no blank line between), if any. */
  comment?: string;
}

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let pending: string[] = [];
  let blankSinceComment = false;
  let i = 0;
  while (i < source.length) {
    const ch = source[i];
    if (ch === "\n") {
      // a blank line between a comment and the next declaration detaches the comment
      const lineStart = source.lastIndexOf("\n", i - 1) + 1;
      if (source.slice(lineStart, i).trim() === "" && pending.length > 0) blankSinceComment = true;
      i++;
    } else if (/\s/.test(ch)) {
      i++;
    } else if (source.startsWith("//", i)) {
      const end = source.indexOf("\n", i);
      const line = source.slice(i + 2, end < 0 ? undefined : end);
      // a comment after code on the same line trails that code: it leads nothing
      if (!trailsCode(i)) {
        if (blankSinceComment) pending = [];
        blankSinceComment = false;
        pending.push(line.startsWith(" ") ? line.slice(1) : line);
      }
      i = end < 0 ? source.length : end;
    } else if (source.startsWith("/*", i)) {
      const end = source.indexOf("*/", i + 2);
      const body = source.slice(i + 2, end < 0 ? undefined : end);
      if (blankSinceComment) pending = [];
      blankSinceComment = false;
      pending.push(...body.split("\n").map((l) => l.replace(/^\s*\*? ?/, "")));
      i = end < 0 ? source.length : end + 2;
    } else if (ch === '"' || ch === "'") {
      let j = i + 1;
      while (j < source.length && source[j] !== ch) j += source[j] === "\\" ? 2 : 1;
      push(source.slice(i, j + 1));
      i = j + 1;
    } else if (/[A-Za-z0-9_.+-]/.test(ch)) {
      let j = i;
      while (j < source.length && /[A-Za-z0-9_.+-]/.test(source[j])) j++;
      push(source.slice(i, j));
      i = j;
    } else {
      push(ch);
      i++;
    }
  }
  return tokens;

  function trailsCode(at: number): boolean {
    const lineStart = source.lastIndexOf("\n", at - 1) + 1;
    return source.slice(lineStart, at).trim() !== "";
  }

  function push(text: string) {
    const comment = !blankSinceComment && pending.length > 0 ? pending.join("\n").trim() : undefined;
    tokens.push(comment ? { text, comment } : { text });
    pending = [];
    blankSinceComment = false;
  }
}

type ScopeKind = "file" | "message" | "enum" | "service" | "oneof" | "other";

export function parseProtoComments(source: string): Map<string, string> {
  const tokens = tokenize(source);
  const out = new Map<string, string>();
  const scopes: { kind: ScopeKind; name: string }[] = [{ kind: "file", name: "" }];
  const record = (name: string, comment: string | undefined) => {
    if (comment) out.set(name, comment);
  };
  let i = 0;
  while (i < tokens.length) {
    const scope = scopes[scopes.length - 1];
    const first = tokens[i];
    if (first.text === "}") {
      if (scopes.length > 1) scopes.pop();
      i++;
      continue;
    }
    if (first.text === ";") {
      i++;
      continue;
    }
    // read one statement: up to ";" or a "{" at depth 0 (a block opener)
    const start = i;
    let depth = 0;
    let opensBlock = false;
    for (; i < tokens.length; i++) {
      const t = tokens[i].text;
      if (t === "[" || t === "(" || t === "<") depth++;
      else if (t === "]" || t === ")" || t === ">") depth--;
      else if (t === "{") {
        if (depth === 0 && tokens[start].text !== "option") {
          opensBlock = true;
          break;
        }
        depth++;
      } else if (t === "}") depth--;
      else if (t === ";" && depth === 0) break;
    }
    const statement = tokens.slice(start, i);
    i++; // past ";" or "{"
    const keyword = first.text;
    if (keyword === "package" && statement[1]) {
      scopes[0].name = statement[1].text;
      continue;
    }
    const qualify = (name: string) => [...scopes.map((s) => s.name).filter(Boolean), name].join(".");
    if (opensBlock) {
      const name = statement[1]?.text ?? "";
      if (keyword === "message" || keyword === "enum" || keyword === "service") {
        record(qualify(name), first.comment);
        scopes.push({ kind: keyword, name });
      } else if (keyword === "oneof") {
        record(qualify(name), first.comment);
        // a oneof's fields belong to the message: an unnamed scope keeps their names right
        scopes.push({ kind: "oneof", name: "" });
      } else if (keyword === "rpc") {
        record(qualify(name), first.comment);
        scopes.push({ kind: "other", name: "" });
      } else {
        scopes.push({ kind: "other", name: "" });
      }
      continue;
    }
    if (["option", "reserved", "extensions", "import", "syntax", "edition"].includes(keyword)) continue;
    if (keyword === "rpc" && scope.kind === "service") {
      record(qualify(statement[1]?.text ?? ""), first.comment);
    } else if (scope.kind === "enum" && statement[1]?.text === "=") {
      record(qualify(keyword), first.comment);
    } else if (scope.kind === "message" || scope.kind === "oneof") {
      const eq = statement.findIndex((t) => t.text === "=");
      if (eq > 0) record(qualify(statement[eq - 1].text), first.comment);
    }
  }
  return out;
}
