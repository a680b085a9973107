import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type { EncryptionKeyring } from "./keyring.js";

/** A value sealed with AES-256-GCM, stored as one column: `v1.<key id>.<iv>.<tag>.<ciphertext>` (base64url). */
export type Sealed = string;

export class DecryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DecryptionError";
  }
}

const VERSION = "v1";

/**
 * Encrypts and decrypts secrets at rest. The key id travels with each value so keys can rotate;
 * `aad` binds a value to its row (e.g. the client id), so a ciphertext copied to another row fails.
 */
export interface SecretBox {
  seal(plaintext: string, aad?: string): Sealed;
  open(sealed: Sealed, aad?: string): string;
  /** True when the value was sealed with a key other than the active one (re-encrypt it). */
  isStale(sealed: Sealed): boolean;
}

export function createSecretBox(keyring: EncryptionKeyring): SecretBox {
  return {
    seal(plaintext, aad = "") {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", keyring.active.key, iv);
      cipher.setAAD(Buffer.from(aad));
      const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
      const tag = cipher.getAuthTag();
      return [VERSION, keyring.active.id, iv.toString("base64url"), tag.toString("base64url"), body.toString("base64url")].join(".");
    },
    open(sealed, aad = "") {
      const parts = sealed.split(".");
      if (parts.length !== 5 || parts[0] !== VERSION) throw new DecryptionError("encrypted value has an unknown format");
      const [, keyId, iv, tag, body] = parts;
      const key = keyring.byId.get(keyId);
      if (!key) {
        throw new DecryptionError(`encrypted with key "${keyId}", which is not in TOKEN_ENCRYPTION_KEY`);
      }
      try {
        const decipher = createDecipheriv("aes-256-gcm", key.key, Buffer.from(iv, "base64url"));
        decipher.setAAD(Buffer.from(aad));
        decipher.setAuthTag(Buffer.from(tag, "base64url"));
        return Buffer.concat([decipher.update(Buffer.from(body, "base64url")), decipher.final()]).toString("utf8");
      } catch {
        // GCM cannot tell a wrong key from tampering; both mean the value must not be trusted
        throw new DecryptionError(`encrypted value failed authentication with key "${keyId}" (tampered, or the key is wrong)`);
      }
    },
    isStale(sealed) {
      return sealed.split(".")[1] !== keyring.active.id;
    },
  };
}
