import { randomBytes } from "node:crypto";
import { connectNats, deleteStreams, type Nats, type StreamOptions } from "../../lib/nats/index.js";

export const TEST_NATS_URL = process.env.TEST_NATS_URL ?? "nats://127.0.0.1:4222";

export function uniqueNamespace(): string {
  return `t${process.pid}${randomBytes(3).toString("hex")}`;
}

export interface TestStreams {
  readonly namespace: string;
  readonly nats: Nats;
}

/**
 * Streams and consumers under a namespace of their own for the surrounding `describe`, deleted
 * afterwards; on the shared NATS, or on the one `url()` names when the test runs a server of its own.
 */
export function useTestStreams(options: StreamOptions & { url?: () => string } = {}): TestStreams {
  const namespace = uniqueNamespace();
  let nats: Nats | undefined;
  before(async () => {
    const { url, ...streamOptions } = options;
    nats = await connectNats({ url: url?.() ?? TEST_NATS_URL, namespace, ...streamOptions });
  });
  after(async () => {
    if (!nats) return;
    await deleteStreams(nats.jsm, nats.names).catch(() => undefined);
    await nats.close();
  });
  return {
    namespace,
    get nats() {
      if (!nats) throw new Error("useTestStreams: read it inside a test, not at describe time");
      return nats;
    },
  };
}
