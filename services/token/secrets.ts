import { createHash, randomBytes } from "node:crypto";

/**
 * Associated data for SecretBox: each sealed value is bound to its row and its purpose, so a
 * ciphertext copied to another client (or from the refresh-token column to the access-token
 * column) fails to open.
 */
export const aad = {
  clientSecret: (clientId: string) => `client:${clientId}:client_secret`,
  accessToken: (clientId: string) => `client:${clientId}:access_token`,
  refreshToken: (clientId: string) => `client:${clientId}:refresh_token`,
  codeVerifier: (stateId: string) => `oauth_state:${stateId}:code_verifier`,
};

/** 256 random bits, URL-safe: one-time states and login links. */
export function randomSecret(): string {
  return randomBytes(32).toString("base64url");
}

/** One-time proofs are stored only as SHA-256, so a database reader cannot redeem them. */
export function sha256Hex(value: string): string {
  return createHash("sha256").update(value).digest("hex");
}
