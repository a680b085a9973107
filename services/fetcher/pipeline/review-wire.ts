import { toBinary } from "@bufbuild/protobuf";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { ReviewSchema, type Review } from "../../../gen/reviewflow/reviews/v1/review_pb.js";

/**
 * Review (and ReviewEvent's head) in protobuf binary, written field by field instead of through
 * protobuf-es' reflective `toBinary`: every fetched review is encoded once (for its change hash
 * and storage), which made `toBinary` the largest single cost of diffing (~18 µs of a ~1 kB
 * review, against ~2 µs here). The output is byte for byte what `toBinary(ReviewSchema, review)`
 * writes (fields in declaration order, proto3 defaults left out, optional fields written when
 * set): the stored `content_hash` of every review was computed from those bytes, and a different
 * but equivalent encoding would make every stored review look changed. review-wire.test.ts checks
 * the equality; anything this writer does not cover (unknown fields, negative numbers) goes
 * through `toBinary` itself.
 */
export function encodeReview(review: Review): Uint8Array {
  if (!plainReview(review)) return toBinary(ReviewSchema, review);
  const w = new Writer(reviewSize(review));
  writeReview(w, review);
  return w.buf;
}

/** A ReviewEvent's fields other than its review. */
export interface EventHead {
  eventId: string;
  type: number;
  jobId: string;
  tenantId: string;
  clientId: string;
  locationId: string;
  previousUpdateTime?: Timestamp;
  observeTime: Timestamp;
  version: number;
  previousVersion: number;
}

/**
 * A ReviewEvent: its fields 1–6 and 8–11 as `toBinary` writes them, then the review's bytes as
 * they are (already encoded once, for storage and the change hash) as field 7. Fields may come
 * in any order on the wire, so this decodes exactly as the same event through `toBinary` would.
 */
export function encodeEvent(head: EventHead, reviewPb: Uint8Array): Uint8Array {
  const headSize = stringSize(1, head.eventId) + uintSize(2, head.type) + stringSize(3, head.jobId) + stringSize(4, head.tenantId)
    + stringSize(5, head.clientId) + stringSize(6, head.locationId)
    + (head.previousUpdateTime ? messageSize(8, timestampSize(head.previousUpdateTime)) : 0)
    + messageSize(9, timestampSize(head.observeTime)) + uintSize(10, head.version) + uintSize(11, head.previousVersion);
  const w = new Writer(headSize + messageSize(7, reviewPb.length));
  w.string(1, head.eventId);
  w.uint(2, head.type);
  w.string(3, head.jobId);
  w.string(4, head.tenantId);
  w.string(5, head.clientId);
  w.string(6, head.locationId);
  if (head.previousUpdateTime) w.timestamp(8, head.previousUpdateTime);
  w.timestamp(9, head.observeTime);
  w.uint(10, head.version);
  w.uint(11, head.previousVersion);
  w.header(7, reviewPb.length);
  w.buf.set(reviewPb, w.pos);
  return w.buf;
}

/** Set message fields are written even when empty; unknown fields and negative numbers are left to toBinary. */
function plainReview(r: Review): boolean {
  return noUnknown(r) && r.starRating >= 0 && (!r.reviewer || noUnknown(r.reviewer))
    && plainTime(r.createTime) && plainTime(r.updateTime)
    && (!r.reply || (noUnknown(r.reply) && plainTime(r.reply.updateTime)));
}

function noUnknown(m: { $unknown?: unknown[] }): boolean {
  return m.$unknown === undefined || m.$unknown.length === 0;
}

/** Seconds this writer encodes as a JS number (a Timestamp's range ends far below). */
const MAX_SECONDS = BigInt(Number.MAX_SAFE_INTEGER);

function plainTime(t: Timestamp | undefined): boolean {
  return t === undefined || (noUnknown(t) && t.seconds >= 0n && t.seconds <= MAX_SECONDS && t.nanos >= 0);
}

/** The review's encoded size, computed as `writeReview` writes it. */
function reviewSize(r: Review): number {
  let size = stringSize(1, r.name) + stringSize(2, r.reviewId);
  if (r.reviewer) size += messageSize(3, reviewerSize(r.reviewer));
  size += uintSize(4, r.starRating);
  if (r.comment !== undefined) size += messageSize(5, utf8Length(r.comment));
  if (r.createTime) size += messageSize(6, timestampSize(r.createTime));
  if (r.updateTime) size += messageSize(7, timestampSize(r.updateTime));
  if (r.reply) size += messageSize(8, replySize(r.reply));
  return size + stringSize(9, r.locationName);
}

function reviewerSize(v: NonNullable<Review["reviewer"]>): number {
  return optionalStringSize(1, v.displayName) + optionalStringSize(2, v.profilePhotoUrl) + uintSize(3, v.isAnonymous ? 1 : 0);
}

function replySize(reply: NonNullable<Review["reply"]>): number {
  return stringSize(1, reply.comment) + (reply.updateTime ? messageSize(2, timestampSize(reply.updateTime)) : 0);
}

function writeReview(w: Writer, r: Review): void {
  w.string(1, r.name);
  w.string(2, r.reviewId);
  if (r.reviewer) {
    const v = r.reviewer;
    w.header(3, reviewerSize(v));
    if (v.displayName !== undefined) w.stringAlways(1, v.displayName);
    if (v.profilePhotoUrl !== undefined) w.stringAlways(2, v.profilePhotoUrl);
    w.uint(3, v.isAnonymous ? 1 : 0);
  }
  w.uint(4, r.starRating);
  if (r.comment !== undefined) w.stringAlways(5, r.comment);
  if (r.createTime) w.timestamp(6, r.createTime);
  if (r.updateTime) w.timestamp(7, r.updateTime);
  if (r.reply) {
    w.header(8, replySize(r.reply));
    w.string(1, r.reply.comment);
    if (r.reply.updateTime) w.timestamp(2, r.reply.updateTime);
  }
  w.string(9, r.locationName);
}

/** Writes fields into a buffer of exactly the message's size (its own memory, not Node's shared pool). */
class Writer {
  readonly buf: Buffer;
  pos = 0;

  constructor(size: number) {
    this.buf = Buffer.alloc(size);
  }

  /** A string field, left out when empty (proto3 implicit presence). */
  string(field: number, value: string): void {
    if (value !== "") this.stringAlways(field, value);
  }

  /** A string field written even when empty (an optional field that is set). */
  stringAlways(field: number, value: string): void {
    this.header(field, utf8Length(value));
    this.pos += this.buf.write(value, this.pos, "utf8");
  }

  /** A varint field (uint32, non-negative int32, enum, bool), left out when 0. */
  uint(field: number, value: number): void {
    if (value === 0) return;
    this.pos = varint(this.buf, this.pos, field << 3);
    this.pos = varint(this.buf, this.pos, value);
  }

  timestamp(field: number, t: Timestamp): void {
    this.header(field, timestampSize(t));
    this.uint(1, Number(t.seconds));
    this.uint(2, t.nanos);
  }

  /** A length-delimited field's tag and length: its content follows. */
  header(field: number, length: number): void {
    this.pos = varint(this.buf, this.pos, (field << 3) | 2);
    this.pos = varint(this.buf, this.pos, length);
  }
}

/** Writes a non-negative integer below 2^53 as a varint; returns the position after it. */
function varint(buf: Buffer, at: number, value: number): number {
  let v = value;
  let pos = at;
  while (v > 0x7f) {
    buf[pos++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  buf[pos++] = v;
  return pos;
}

function varintSize(value: number): number {
  let size = 1;
  for (let v = value; v > 0x7f; v = Math.floor(v / 0x80)) size++;
  return size;
}

function utf8Length(value: string): number {
  return Buffer.byteLength(value, "utf8");
}

function uintSize(field: number, value: number): number {
  return value === 0 ? 0 : varintSize(field << 3) + varintSize(value);
}

function stringSize(field: number, value: string): number {
  return value === "" ? 0 : messageSize(field, utf8Length(value));
}

function optionalStringSize(field: number, value: string | undefined): number {
  return value === undefined ? 0 : messageSize(field, utf8Length(value));
}

/** A length-delimited field of `length` bytes. */
function messageSize(field: number, length: number): number {
  return varintSize((field << 3) | 2) + varintSize(length) + length;
}

function timestampSize(t: Timestamp): number {
  return uintSize(1, Number(t.seconds)) + uintSize(2, t.nanos);
}
