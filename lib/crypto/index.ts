export { createSecretBox, DecryptionError, type Sealed, type SecretBox } from "./cipher.js";
export { parseEncryptionKeys, type EncryptionKey, type EncryptionKeyring } from "./keyring.js";
