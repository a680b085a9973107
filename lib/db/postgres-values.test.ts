import assert from "node:assert/strict";
import { isBigintId, isTimestamp, isUuid } from "./postgres-values.js";

describe("lib/db postgres values", () => {
  it("accepts the RFC 3339 times page tokens carry and nothing Date.parse would guess at", () => {
    for (const ok of [
      "2026-01-01T10:00:00.123456+00:00",
      "2026-01-01T10:00:00Z",
      "2024-02-29T23:59:59.5-15:59",
      "0001-01-01T00:00:00Z",
      "9999-12-31T23:59:59.999999Z",
    ]) {
      assert.ok(isTimestamp(ok), ok);
    }
    for (const bad of [
      "1",
      "2026",
      "2026-01-01",
      "2026-01-01 10:00:00Z",
      "2026-13-01T00:00:00Z",
      "2026-02-29T00:00:00Z",
      "2026-04-31T00:00:00Z",
      "2026-01-01T24:00:00Z",
      "2026-01-01T23:60:00Z",
      "2026-01-01T23:59:60Z",
      "2026-01-01T00:00:00.1234567Z",
      "2026-01-01T00:00:00+16:00",
      "0000-01-01T00:00:00Z",
      "+02026-01-01T00:00:00Z",
      "2026-01-01T00:00:00",
      "infinity",
      "2026-01-01T00:00:00Z\u0000",
    ]) {
      assert.ok(!isTimestamp(bad), bad);
    }
  });

  it("accepts bigint ids from 1 to 2^63-1 and uuids, nothing else", () => {
    assert.ok(isBigintId("1") && isBigintId("9223372036854775807"));
    for (const bad of ["0", "-1", "01", "9223372036854775808", "99999999999999999999", "1e3", " 1", "1.0", ""])
      assert.ok(!isBigintId(bad), bad);
    assert.ok(isUuid("0b4c6a1e-2f3d-4e5f-8a9b-0c1d2e3f4a5b"));
    assert.ok(!isUuid("0b4c6a1e-2f3d-4e5f-8a9b-0c1d2e3f4a5") && !isUuid("zb4c6a1e-2f3d-4e5f-8a9b-0c1d2e3f4a5b"));
  });
});
