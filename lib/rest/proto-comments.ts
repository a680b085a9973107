// The contracts' comments, for the OpenAPI document's descriptions. protoc-gen-es embeds
// descriptors without `source_code_info`, so the comments are not in the generated code; `npm run
// gen` reads them from a buf-built descriptor image with protobuf-es's getComments()
// (scripts/proto-comments.ts) into gen/reviewflow/comments.json, committed and checked like the
// rest of gen/. This only loads that file: no .proto is parsed here.
import { readFileSync } from "node:fs";

/**
 * Leading comments of messages, fields, oneofs, enums, enum values, services and rpcs, keyed by
 * fully-qualified name (`reviewflow.token.v1.TokenService.CreateClient`,
 * `reviewflow.token.v1.CreateClientRequest.name`, `reviewflow.fetcher.v1.JobStatus.JOB_STATUS_QUEUED`).
 */
export type ProtoComments = ReadonlyMap<string, string>;

/** Where `npm run gen` writes them: beside the sources (tsx), or one level further up (compiled into dist/). */
export const PROTO_COMMENTS_FILES = ["../../gen/reviewflow/comments.json", "../../../gen/reviewflow/comments.json"].map(
  (p) => new URL(p, import.meta.url),
);

/** The comments `npm run gen` extracted (an empty map when there are none: comments are optional). */
export function loadProtoComments(files: readonly (URL | string)[] = PROTO_COMMENTS_FILES): ProtoComments {
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    return new Map(Object.entries(JSON.parse(text) as Record<string, string>));
  }
  return new Map();
}
