import assert from "node:assert/strict";
import { createSecretBox, DecryptionError, parseEncryptionKeys } from "./index.js";

const keyA = Buffer.alloc(32, 0xa).toString("base64");
const keyB = Buffer.alloc(32, 0xb).toString("base64");

describe("SecretBox (AES-256-GCM)", () => {
  const box = createSecretBox(parseEncryptionKeys(`a:${keyA}`));

  it("round-trips, with a fresh IV every time", () => {
    const one = box.seal("1//refresh-token", "client-1");
    const two = box.seal("1//refresh-token", "client-1");
    assert.notEqual(one, two);
    assert.ok(!one.includes("refresh"));
    assert.equal(box.open(one, "client-1"), "1//refresh-token");
    assert.ok(one.startsWith("v1.a."), "key id stored beside the value");
  });

  it("detects tampering with the ciphertext", () => {
    const sealed = box.seal("secret value");
    const parts = sealed.split(".");
    const body = Buffer.from(parts[4], "base64url");
    body[0] ^= 1;
    parts[4] = body.toString("base64url");
    assert.throws(() => box.open(parts.join(".")), DecryptionError);
  });

  it("detects a value moved to another row (associated data)", () => {
    const sealed = box.seal("secret value", "client-1");
    assert.throws(() => box.open(sealed, "client-2"), /failed authentication/);
  });

  it("says clearly when the key is wrong or missing", () => {
    const sealed = box.seal("secret value");
    const otherKeySameId = createSecretBox(parseEncryptionKeys(`a:${keyB}`));
    assert.throws(() => otherKeySameId.open(sealed), /failed authentication with key "a"/);
    const withoutKey = createSecretBox(parseEncryptionKeys(`b:${keyB}`));
    assert.throws(() => withoutKey.open(sealed), /encrypted with key "a", which is not in TOKEN_ENCRYPTION_KEY/);
  });

  it("decrypts with an old key after rotation and flags the value as stale", () => {
    const sealed = box.seal("secret value");
    const rotated = createSecretBox(parseEncryptionKeys(`b:${keyB},a:${keyA}`));
    assert.equal(rotated.open(sealed), "secret value");
    assert.ok(rotated.isStale(sealed));
    assert.ok(!rotated.isStale(rotated.seal("x")));
  });
});
