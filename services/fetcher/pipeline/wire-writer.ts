import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { TimestampSchema, type Timestamp } from "@bufbuild/protobuf/wkt";

const TS = TimestampSchema.field;

/**
 * One BinaryWriter for the hot path's hand-written encoders (a review's bytes, a review event).
 * Encoding is synchronous, so one writer serves every message; it keeps its buffer. A writer of
 * its own (what toBinary makes) starts at 128 bytes and doubles up to the message's size, and
 * for a ~1 kB review those allocations were most of the encoding's cost.
 */
const writer = new BinaryWriter();

/** Runs `write` on the shared writer and returns the bytes written; a throw leaves it empty for the next message. */
export function encodeWithSharedWriter(write: (w: BinaryWriter) => void): Uint8Array {
  try {
    write(writer);
    return writer.finish();
  } catch (err) {
    writer.finish();
    throw err;
  }
}

/** A string field of implicit presence, as toBinary writes it (left out when empty). */
export function writeString(w: BinaryWriter, fieldNo: number, value: string): void {
  if (value !== "") w.tag(fieldNo, WireType.LengthDelimited).string(value);
}

/** A Timestamp as a length-delimited field, as toBinary writes it (zero seconds or nanos left out). */
export function writeTimestamp(w: BinaryWriter, fieldNo: number, ts: Timestamp): void {
  w.tag(fieldNo, WireType.LengthDelimited).fork();
  if (ts.seconds !== 0n) w.tag(TS.seconds.number, WireType.Varint).int64(ts.seconds);
  if (ts.nanos !== 0) w.tag(TS.nanos.number, WireType.Varint).int32(ts.nanos);
  w.join();
}
