// The 32-byte track header that prefixes every message on a routed WebTransport stream
// (shared/DESIGN.md, "The track header"):
//
//   offset 0   track_id     16 bytes  UTF-8, NUL-padded on the right
//   offset 16  payload_len   4 bytes  unsigned 32-bit, big-endian
//   offset 20  track_type   12 bytes  printable ASCII (0x20-0x7E), NUL-padded on the right
//   offset 32  payload      payload_len bytes
//
// This module is pure (no DOM, no WebTransport) so that Node can test it and the page can use it.
// It refuses to encode anything the gateway would reject, because the gateway answers a malformed
// header by resetting the whole stream: better to fail loudly here, before a byte is sent.

export const TRACK_HEADER_SIZE = 32;
export const TRACK_ID_SIZE = 16;
export const TRACK_TYPE_SIZE = 12;
export const PAYLOAD_LEN_OFFSET = 16;
export const TRACK_TYPE_OFFSET = 20;
export const MAX_PAYLOAD_LEN = 0xffff_ffff;

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/** UTF-8 bytes of a track_id, checked to fit and to hold no NUL (a NUL would read as padding). */
export function encodeTrackId(trackId) {
  if (typeof trackId !== 'string') {
    throw new TypeError('track_id must be a string');
  }
  // TextEncoder replaces lone surrogates with U+FFFD silently; refuse them instead so that the
  // id the page shows is the id the gateway routes on.
  if (!trackId.isWellFormed()) {
    throw new RangeError('track_id holds a lone surrogate');
  }
  const bytes = utf8.encode(trackId);
  if (bytes.length > TRACK_ID_SIZE) {
    throw new RangeError(`track_id "${trackId}" is ${bytes.length} bytes of UTF-8; at most ${TRACK_ID_SIZE}`);
  }
  if (bytes.includes(0)) {
    throw new RangeError('track_id must not contain NUL');
  }
  return bytes;
}

/** ASCII bytes of a track_type: 1 to 12 printable ASCII characters. */
export function encodeTrackType(trackType) {
  if (typeof trackType !== 'string') {
    throw new TypeError('track_type must be a string');
  }
  if (trackType.length === 0 || trackType.length > TRACK_TYPE_SIZE) {
    throw new RangeError(`track_type must be 1 to ${TRACK_TYPE_SIZE} characters, got ${trackType.length}`);
  }
  const bytes = new Uint8Array(trackType.length);
  for (let i = 0; i < trackType.length; i++) {
    const c = trackType.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) {
      throw new RangeError(`track_type must be printable ASCII; character ${i} is U+${c.toString(16).padStart(4, '0')}`);
    }
    bytes[i] = c;
  }
  return bytes;
}

/**
 * Writes the header for a payload of `payloadLength` bytes into `target` at `offset`
 * (a new 32-byte array when no target is given) and returns the target.
 * `trackId` and `trackType` may be strings or the byte arrays from encodeTrackId/encodeTrackType
 * (pass bytes on hot paths: a track sends thousands of messages with the same two fields).
 */
export function encodeTrackHeader(trackId, trackType, payloadLength, target = new Uint8Array(TRACK_HEADER_SIZE), offset = 0) {
  const id = typeof trackId === 'string' ? encodeTrackId(trackId) : trackId;
  const type = typeof trackType === 'string' ? encodeTrackType(trackType) : trackType;
  if (!(id instanceof Uint8Array) || id.length > TRACK_ID_SIZE) {
    throw new RangeError(`track_id bytes must be a Uint8Array of at most ${TRACK_ID_SIZE} bytes`);
  }
  if (!(type instanceof Uint8Array) || type.length === 0 || type.length > TRACK_TYPE_SIZE) {
    throw new RangeError(`track_type bytes must be a Uint8Array of 1 to ${TRACK_TYPE_SIZE} bytes`);
  }
  if (!Number.isInteger(payloadLength) || payloadLength < 0 || payloadLength > MAX_PAYLOAD_LEN) {
    throw new RangeError(`payload_len must be an integer from 0 to ${MAX_PAYLOAD_LEN}, got ${payloadLength}`);
  }
  if (offset < 0 || target.length - offset < TRACK_HEADER_SIZE) {
    throw new RangeError(`the target needs ${TRACK_HEADER_SIZE} bytes at offset ${offset}`);
  }

  // Zero the whole header first: the NUL padding is part of the contract, and a reused buffer
  // would otherwise leak the previous, longer id or type into this one.
  target.fill(0, offset, offset + TRACK_HEADER_SIZE);
  target.set(id, offset);
  new DataView(target.buffer, target.byteOffset + offset, TRACK_HEADER_SIZE)
    .setUint32(PAYLOAD_LEN_OFFSET, payloadLength, false /* big-endian */);
  target.set(type, offset + TRACK_TYPE_OFFSET);
  return target;
}

/** Header and payload in one array: one writer.write() per message keeps a message whole on the stream. */
export function frameMessage(trackId, trackType, payload) {
  const body = toBytes(payload);
  const frame = new Uint8Array(TRACK_HEADER_SIZE + body.length);
  encodeTrackHeader(trackId, trackType, body.length, frame, 0);
  frame.set(body, TRACK_HEADER_SIZE);
  return frame;
}

/**
 * Reads a header back. Applies the gateway's rules (trailing NUL padding only, a non-empty printable
 * ASCII track_type, a UTF-8 track_id) and throws a RangeError naming the broken rule.
 */
export function decodeTrackHeader(bytes, offset = 0) {
  if (bytes.length - offset < TRACK_HEADER_SIZE) {
    throw new RangeError(`a track header is ${TRACK_HEADER_SIZE} bytes`);
  }
  const header = bytes.subarray(offset, offset + TRACK_HEADER_SIZE);
  const idField = header.subarray(0, TRACK_ID_SIZE);
  const typeField = header.subarray(TRACK_TYPE_OFFSET, TRACK_TYPE_OFFSET + TRACK_TYPE_SIZE);
  const typeLength = trimmedLength(typeField, 'track_type');
  if (typeLength === 0) {
    throw new RangeError('track_type is empty');
  }
  const type = typeField.subarray(0, typeLength);
  if (type.some((c) => c < 0x20 || c > 0x7e)) {
    throw new RangeError('track_type holds a byte outside printable ASCII');
  }
  const idLength = trimmedLength(idField, 'track_id');
  let trackId;
  try {
    trackId = utf8Strict.decode(idField.subarray(0, idLength));
  } catch {
    throw new RangeError('track_id is not valid UTF-8');
  }
  const payloadLength = new DataView(header.buffer, header.byteOffset, TRACK_HEADER_SIZE).getUint32(PAYLOAD_LEN_OFFSET, false);
  return { trackId, payloadLength, trackType: String.fromCharCode(...type) };
}

/**
 * A track_id of the form `${prefix}${name}` cut to 16 bytes of UTF-8 without splitting a character,
 * with NULs removed: file names are longer than the header allows.
 */
export function makeTrackId(prefix, name) {
  let id = '';
  let size = 0;
  for (const ch of `${prefix}${name}`.replaceAll('\0', '')) {
    // Iterating a string yields whole code points; lone surrogates become U+FFFD so the id stays well formed.
    const safe = ch.isWellFormed() ? ch : '\ufffd';
    const n = utf8.encode(safe).length;
    if (size + n > TRACK_ID_SIZE) {
      break;
    }
    id += safe;
    size += n;
  }
  return id;
}

function trimmedLength(field, name) {
  const firstNul = field.indexOf(0);
  if (firstNul < 0) {
    return field.length;
  }
  if (field.subarray(firstNul).some((b) => b !== 0)) {
    throw new RangeError(`${name} has a non-NUL byte after its NUL padding`);
  }
  return firstNul;
}

function toBytes(payload) {
  if (payload instanceof Uint8Array) {
    return payload;
  }
  if (payload instanceof ArrayBuffer) {
    return new Uint8Array(payload);
  }
  if (ArrayBuffer.isView(payload)) {
    return new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength);
  }
  if (typeof payload === 'string') {
    return utf8.encode(payload);
  }
  throw new TypeError('payload must be bytes (Uint8Array, ArrayBuffer, a typed array view) or a string');
}
