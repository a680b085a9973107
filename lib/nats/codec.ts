import { create, fromBinary, toBinary, type DescMessage, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import type { PubAck } from "@nats-io/jetstream";
import { headers as natsHeaders, type MsgHdrs } from "@nats-io/nats-core";
import type { AckedPublisher } from "./acked-publisher.js";
import { TYPE_HEADER } from "./names.js";

/**
 * Publishes a protobuf message (binary) with its type in the Reviewflow-Type header and, when
 * given, a deterministic Nats-Msg-Id so a retried publish is stored once.
 */
export async function publishMessage<Desc extends DescMessage>(
  publisher: AckedPublisher,
  subject: string,
  schema: Desc,
  message: MessageInitShape<Desc>,
  options: { msgID?: string; timeoutMs?: number } = {},
): Promise<PubAck> {
  const h = natsHeaders();
  h.set(TYPE_HEADER, schema.typeName);
  const payload = toBinary(schema, create(schema, message));
  return publisher.publish(subject, payload, { headers: h, msgID: options.msgID, timeoutMs: options.timeoutMs ?? 10_000 });
}

/** Decodes a payload, checking the Reviewflow-Type header when present. */
export function decodeMessage<Desc extends DescMessage>(schema: Desc, data: Uint8Array, headers?: MsgHdrs): MessageShape<Desc> {
  const type = headers?.get(TYPE_HEADER);
  if (type && type !== schema.typeName) throw new Error(`expected ${schema.typeName}, got ${type}`);
  return fromBinary(schema, data);
}
