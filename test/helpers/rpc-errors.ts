import assert from "node:assert/strict";
import { Code, ConnectError } from "@connectrpc/connect";

/** Asserts that `call` fails with `code` (and, when given, a message matching `message`). */
export function rejectsWith(call: Promise<unknown>, code: Code, message?: RegExp): Promise<void> {
  return assert.rejects(call, (err: unknown) => {
    const e = ConnectError.from(err);
    assert.equal(Code[e.code], Code[code], e.rawMessage);
    if (message) assert.match(e.rawMessage, message);
    return true;
  });
}
