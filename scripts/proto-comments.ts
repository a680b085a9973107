// `npm run gen`'s last step: the contracts' comments for the gateway's OpenAPI descriptions.
// protoc-gen-es embeds descriptors without `source_code_info`, so the generated code has no
// comments. This builds a descriptor image of proto/ with buf (source info included), reads each
// comment with protobuf-es's getComments(), and writes them keyed by full name to
// gen/reviewflow/comments.json, committed and checked like the rest of gen/. Nothing parses .proto
// by hand, and the gateway needs neither buf nor protoplugin at run time.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import { nestedTypes } from "@bufbuild/protobuf/reflect";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { getComments } from "@bufbuild/protoplugin";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const genDir = path.resolve(process.argv[2] ?? path.join(root, "gen"));

/** `// A name.` arrives as " A name.\n": one leading space per line off, the block trimmed. */
function clean(text: string | undefined): string {
  if (!text) return "";
  return text
    .split("\n")
    .map((line) => line.replace(/^ /, "").trimEnd())
    .join("\n")
    .trim();
}

const work = mkdtempSync(path.join(tmpdir(), "reviewflow-image-"));
try {
  const image = path.join(work, "image.binpb");
  execFileSync(path.join(root, "node_modules", ".bin", "buf"), ["build", "proto", "-o", image], { cwd: root, stdio: "inherit" });
  const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(image)));
  const comments: Record<string, string> = {};
  const put = (name: string, desc: Parameters<typeof getComments>[0]) => {
    const text = clean(getComments(desc).leading);
    if (text) comments[name] = text;
  };
  for (const file of registry.files) {
    if (!file.proto.name.startsWith("reviewflow/")) continue;
    for (const type of nestedTypes(file)) {
      if (type.kind === "message") {
        put(type.typeName, type);
        for (const field of type.fields) put(`${type.typeName}.${field.name}`, field);
        for (const oneof of type.oneofs) put(`${type.typeName}.${oneof.name}`, oneof);
      } else if (type.kind === "enum") {
        put(type.typeName, type);
        for (const value of type.values) put(`${type.typeName}.${value.name}`, value);
      } else if (type.kind === "service") {
        put(type.typeName, type);
        for (const method of type.methods) put(`${type.typeName}.${method.name}`, method);
      }
    }
  }
  const sorted = Object.fromEntries(Object.entries(comments).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  mkdirSync(path.join(genDir, "reviewflow"), { recursive: true });
  writeFileSync(path.join(genDir, "reviewflow", "comments.json"), `${JSON.stringify(sorted, null, 2)}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
