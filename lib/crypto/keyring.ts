import { createHash } from "node:crypto";

/** The encryption keys: `active` encrypts; every key (old ones too) can decrypt. */
export interface EncryptionKeyring {
  active: EncryptionKey;
  byId: ReadonlyMap<string, EncryptionKey>;
}

export interface EncryptionKey {
  id: string;
  key: Buffer;
}

/**
 * Parses TOKEN_ENCRYPTION_KEY: either one base64 key, or `id:base64,id:base64,...` where the
 * first key is active and the rest are kept only to decrypt values written before a rotation.
 * Errors describe the shape, never the key material.
 */
export function parseEncryptionKeys(raw: string): EncryptionKeyring {
  const entries = raw.split(",").map((part, index) => {
    const trimmed = part.trim();
    const colon = trimmed.indexOf(":");
    const [id, material] = colon > 0 ? [trimmed.slice(0, colon), trimmed.slice(colon + 1)] : [undefined, trimmed];
    const key = Buffer.from(material, "base64");
    if (key.length !== 32 || key.toString("base64").replace(/=+$/, "") !== material.replace(/=+$/, "")) {
      throw new Error(`key #${index + 1} must be base64 of exactly 32 bytes`);
    }
    if (id !== undefined && !/^[A-Za-z0-9_-]{1,32}$/.test(id)) {
      throw new Error(`key #${index + 1} has an invalid id (letters, digits, _ and -, at most 32)`);
    }
    // a derived id lets a bare key rotate later without re-labelling stored values
    return { id: id ?? `k${createHash("sha256").update(key).digest("hex").slice(0, 8)}`, key };
  });
  const byId = new Map<string, EncryptionKey>();
  for (const entry of entries) {
    if (byId.has(entry.id)) throw new Error(`key id "${entry.id}" appears twice`);
    byId.set(entry.id, entry);
  }
  return { active: entries[0], byId };
}
