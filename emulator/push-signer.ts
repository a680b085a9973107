// The emulator's stand-in for Google's OIDC signer: push requests carry an RS256 JWT whose key
// the receiver fetches from a JWKS (Google's is https://www.googleapis.com/oauth2/v3/certs, the
// emulator serves its own at the same path). node:crypto does RSA and PKCS#1 v1.5 signing itself,
// so no JOSE library is needed for the signing side; the receiver verifies with whatever it likes.
// The key is made on first use, not at start: most emulators in the test suite never push, and a
// 2048-bit key costs tens of milliseconds of CPU.
import { createHash, generateKeyPair, type KeyObject, sign } from "node:crypto";

export interface Jwks {
  keys: { kty: "RSA"; alg: "RS256"; use: "sig"; kid: string; n: string; e: string }[];
}

export interface PushClaims {
  aud: string;
  email: string;
}

/** Google's example token has numeric `sub` and `azp` (the service account's unique id). */
export const PUSH_SUBJECT = "113774264463038321964";
export const PUSH_ISSUER = "https://accounts.google.com";
const TOKEN_LIFETIME_S = 3600;

export interface PushSigner {
  jwks(): Promise<Jwks>;
  /** A JWT valid from now for one hour; `nowMs` is the wall clock (the receiver checks it with its own). */
  sign(claims: PushClaims, nowMs?: number): Promise<string>;
}

const b64url = (data: Buffer | string) => Buffer.from(data).toString("base64url");

export function createPushSigner(): PushSigner {
  let keys: Promise<{ privateKey: KeyObject; kid: string; jwk: Jwks["keys"][number] }> | undefined;

  function load() {
    keys ??= new Promise<{ privateKey: KeyObject; publicKey: KeyObject }>((resolve, reject) => {
      generateKeyPair("rsa", { modulusLength: 2048 }, (err, publicKey, privateKey) =>
        err ? reject(err) : resolve({ publicKey, privateKey }),
      );
    }).then(({ publicKey, privateKey }) => {
      const { n, e } = publicKey.export({ format: "jwk" }) as { n: string; e: string };
      // Like Google's kids: a hex digest of the key, stable for the life of the key.
      const kid = createHash("sha256").update(`${n}.${e}`).digest("hex").slice(0, 40);
      return { privateKey, kid, jwk: { kty: "RSA" as const, alg: "RS256" as const, use: "sig" as const, kid, n, e } };
    });
    return keys;
  }

  return {
    async jwks() {
      return { keys: [(await load()).jwk] };
    },
    async sign(claims, nowMs = Date.now()) {
      const { privateKey, kid } = await load();
      const iat = Math.floor(nowMs / 1000);
      const header = b64url(JSON.stringify({ alg: "RS256", kid, typ: "JWT" }));
      const payload = b64url(
        JSON.stringify({
          aud: claims.aud,
          azp: PUSH_SUBJECT,
          email: claims.email,
          email_verified: true,
          exp: iat + TOKEN_LIFETIME_S,
          iat,
          iss: PUSH_ISSUER,
          sub: PUSH_SUBJECT,
        }),
      );
      const signature = sign("sha256", Buffer.from(`${header}.${payload}`), privateKey);
      return `${header}.${payload}.${b64url(signature)}`;
    },
  };
}
