/**
 * Redaction for log output: tokens and secrets must never reach a log line, whether they sit in
 * a field named like a secret, inside a message string, in an error, or in a header.
 */
export const REDACTED = "[REDACTED]";

// field names whose values are always secret, whatever they contain
const SECRET_KEY = /(token|secret|password|passwd|authorization|api[-_]?key|cookie|code_verifier|^code$|^link$|^key$|credential|private)/i;

// shapes of secrets inside free text
const SECRET_PATTERNS: RegExp[] = [
  /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi,
  /\bya29\.[A-Za-z0-9._-]+/g, // Google access tokens
  /\b1\/\/[A-Za-z0-9._-]+/g, // Google refresh tokens
  /\b4\/[A-Za-z0-9._-]{10,}/g, // Google authorization codes
  /\brfk_[A-Za-z0-9_-]+/g, // reviewflow API keys
  /\b(access_token|refresh_token|id_token|client_secret|code|code_verifier|token|key|link|state)=([^&\s"']+)/gi,
  /"(access_token|refresh_token|id_token|client_secret|code_verifier)"\s*:\s*"[^"]*"/gi,
];

const knownSecrets = new Set<string>();

/** Registers an exact value (an admin key, a client secret just read) that must never be printed. */
export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 6) knownSecrets.add(value);
}

export function redactString(text: string): string {
  let out = text;
  for (const secret of knownSecrets) {
    if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  }
  for (const re of SECRET_PATTERNS) {
    out = out.replace(re, (match, name: string | undefined) => {
      if (match.startsWith('"') && name) return `"${name}":"${REDACTED}"`;
      if (name && match.includes("=")) return `${name}=${REDACTED}`;
      if (/^(Bearer|Basic)\s/i.test(match)) return `${match.split(/\s+/)[0]} ${REDACTED}`;
      return REDACTED;
    });
  }
  return out;
}

/** Deep-copies `value` with secret fields and secret-shaped substrings replaced. */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 8) return "[…]";
  if (typeof value === "string") return redactString(value);
  if (value === null || typeof value !== "object") return typeof value === "bigint" ? value.toString() : value;
  if (value instanceof Error) return redactError(value, depth);
  if (value instanceof Date) return value.toISOString();
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return `[${value.length} bytes]`;
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  if (value instanceof Map) return redact(Object.fromEntries(value), depth);
  if (typeof (value as { entries?: unknown }).entries === "function" && typeof (value as Headers).get === "function") {
    return redact(Object.fromEntries((value as Headers).entries()), depth);
  }
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] =
      SECRET_KEY.test(key) && item !== null && item !== undefined && typeof item !== "boolean" && typeof item !== "number"
        ? REDACTED
        : redact(item, depth + 1);
  }
  return out;
}

function redactError(err: Error, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = { name: err.name, message: redactString(err.message) };
  const code = (err as { code?: unknown }).code;
  if (code !== undefined) out.code = code;
  const status = (err as { status?: unknown }).status;
  if (typeof status === "number") out.status = status;
  if (err.stack) out.stack = redactString(err.stack.split("\n").slice(0, 6).join("\n"));
  if (err.cause !== undefined) out.cause = redact(err.cause, depth + 1);
  // deliberately not copying other own properties: HTTP errors carry request configs with headers
  return out;
}
