// One track = one unidirectional WebTransport stream carrying framed messages.
//
// Pure apart from the stream it is given (anything with createUnidirectionalStream() returning a
// WritableStream), so Node can test it against an in-memory WritableStream.

import { TRACK_HEADER_SIZE, encodeTrackHeader, encodeTrackId, encodeTrackType } from './trackHeader.js';

// The codes the gateway puts on RESET_STREAM / STOP_SENDING (dataplane Delivery: StreamErrorCodes).
export const STREAM_ERROR_NAMES = Object.freeze({
  0x10: 'malformed header',
  0x11: 'message too large',
  0x12: 'no route',
  0x13: 'backend unavailable',
  0x14: 'backend rejected',
  0x15: 'overloaded',
});

/** A fresh statistics object for a track; the page shows it and the report is built from it. */
export function newTrackStats(trackId, trackType) {
  return {
    trackId, trackType, state: 'new',
    messages: 0, bytes: 0, // sent: write() resolved; bytes are payload bytes, headers not counted
    skipped: 0, // frames not captured because the previous one was still being sent
    dropped: 0, // messages refused because the queue was full
    failed: 0, // messages not sent because the stream failed
    bytesPerSecond: 0, lastBytes: 0, lastError: '',
  };
}

/**
 * Sends framed messages on its own unidirectional stream. Messages are written one at a time and in
 * order; each waits for writer.ready (back-pressure) and counts as sent only once writer.write()
 * resolved. A message that cannot be sent is counted as failed or dropped, never forgotten.
 */
export class TrackSender {
  /**
   * @param {string} trackId up to 16 bytes of UTF-8
   * @param {string} trackType 1 to 12 printable ASCII characters
   * @param {object} options
   *   queueLimit: messages that may wait (beyond it, send() drops and counts); default unlimited
   *   stats: an existing stats object to keep adding to (a file sent twice keeps its row)
   *   onError(error, trackId): told once when the stream fails; returns an entry with code/codeName/message
   */
  constructor(trackId, trackType, { queueLimit = Infinity, stats, onError } = {}) {
    // Encoded once: every message of the track repeats the same two fields. Throws on a bad id or type.
    this.idBytes = encodeTrackId(trackId);
    this.typeBytes = encodeTrackType(trackType);
    this.trackId = trackId;
    this.queueLimit = queueLimit;
    this.onError = onError ?? ((error) => ({ message: String(error) }));
    this.pending = 0;
    this.tail = Promise.resolve();
    this.writer = null;
    this.failed = false;
    this.closing = false;
    this.closePromise = null;
    this.stats = stats ?? newTrackStats(trackId, trackType);
    this.stats.trackType = trackType;
  }

  async open(transport) {
    this.stats.state = 'opening';
    try {
      const stream = await transport.createUnidirectionalStream();
      this.writer = stream.getWriter();
    } catch (error) {
      this.fail(error);
      throw error;
    }
    this.stats.state = 'open';
    // A reset from the gateway (STOP_SENDING with a code) surfaces here even while the track is idle.
    this.writer.closed.catch((error) => this.fail(error));
    return this;
  }

  /** True while a message is waiting or being written. */
  get busy() { return this.pending > 0; }

  /** Queues a message (bytes) and resolves to true once it was written, false if it was not. */
  send(payload) {
    if (this.failed || this.closing || !this.writer) {
      this.stats.failed++;
      return Promise.resolve(false);
    }
    if (this.pending >= this.queueLimit) {
      this.stats.dropped++;
      return Promise.resolve(false);
    }
    this.pending++;
    const result = this.tail.then(() => this.write(payload));
    this.tail = result.finally(() => { this.pending--; });
    return result;
  }

  async write(payload) {
    if (this.failed) {
      this.stats.failed++;
      return false;
    }
    // Header and payload in one array and one write(): a message is never interleaved or split
    // by the page, whatever QUIC does with it on the wire.
    const frame = new Uint8Array(TRACK_HEADER_SIZE + payload.byteLength);
    encodeTrackHeader(this.idBytes, this.typeBytes, payload.byteLength, frame);
    frame.set(payload, TRACK_HEADER_SIZE);
    try {
      await this.writer.ready;
      await this.writer.write(frame);
    } catch (error) {
      this.fail(error);
      this.stats.failed++;
      return false;
    }
    this.stats.messages++;
    this.stats.bytes += payload.byteLength;
    return true;
  }

  /** Waits for queued messages, then ends the stream with FIN and waits for that too. Idempotent. */
  close() {
    if (this.closePromise) return this.closePromise;
    this.closing = true;
    this.closePromise = (async () => {
      await this.tail;
      if (this.failed || !this.writer) return;
      this.stats.state = 'closing';
      try {
        await this.writer.close();
        this.stats.state = 'closed';
      } catch (error) {
        this.fail(error);
      }
    })();
    return this.closePromise;
  }

  /** Aborts the stream (RESET_STREAM) without waiting for queued messages; they count as failed. */
  async abort(reason) {
    this.closing = true;
    if (this.writer && !this.failed) {
      this.failed = true;
      this.stats.state = 'aborted';
      await this.writer.abort(reason).catch(() => {});
    }
    await this.tail;
  }

  fail(error) {
    if (this.failed) return;
    this.failed = true;
    this.stats.state = 'failed';
    const entry = this.onError(error, this.trackId) ?? {};
    this.stats.lastError = entry.code !== undefined
      ? `code 0x${entry.code.toString(16)} (${entry.codeName})`
      : (entry.message ?? String(error));
  }
}
