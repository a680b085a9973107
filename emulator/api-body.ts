// JSON request bodies of Google's API methods as its front end reads them: a JSON object whose
// keys may be camelCase or the proto's snake_case, anything else refused with Google's
// "Invalid JSON payload received." wording (reference §3.1).
import { BadJsonError, parseJsonObject } from "./http-io.js";
import type { RpcError } from "./rpc-errors.js";

export function invalidPayload(detail: string): RpcError {
  return { code: 400, status: "INVALID_ARGUMENT", message: `Invalid JSON payload received. ${detail}` };
}

/**
 * The body's fields under their canonical names (`fields` maps every accepted spelling to it), or
 * the error Google answers for malformed JSON or an unknown field.
 */
export function parseApiBody(raw: string, fields: ReadonlyMap<string, string>): { body: Record<string, unknown> } | { error: RpcError } {
  let json: Record<string, unknown>;
  try {
    json = parseJsonObject(raw);
  } catch (e) {
    if (e instanceof BadJsonError) return { error: invalidPayload("Unexpected token.") };
    throw e;
  }
  const body: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(json)) {
    const field = fields.get(k);
    if (!field) return { error: invalidPayload(`Unknown name "${k}": Cannot find field.`) };
    body[field] = v;
  }
  return { body };
}
