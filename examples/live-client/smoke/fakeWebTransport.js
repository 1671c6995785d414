// A stand-in for the browser's WebTransport, for the headless smoke test only: it lets the real
// page run its real capture, framing, back-pressure and close paths in Chromium with no server.
// Each unidirectional stream parses the framed messages it receives, the way the gateway's track
// reader does, and tallies them per track, so the test can compare what the page says it sent
// with what arrived.

import { TRACK_HEADER_SIZE, decodeTrackHeader } from '../trackHeader.js';

export const fakeServer = {
  options: null, // the options the page passed to new WebTransport()
  url: null,
  streams: 0, // unidirectional streams opened
  finished: 0, // streams that ended with FIN (writer.close())
  tracks: {}, // trackId -> { trackType, messages, bytes }
  problems: [], // anything a real gateway would have refused
};

function check(trackType, payload) {
  if (trackType === 'video' || trackType === 'screen') {
    const whole = payload.length >= 4 && payload[0] === 0xff && payload[1] === 0xd8
      && payload[payload.length - 2] === 0xff && payload[payload.length - 1] === 0xd9;
    if (!whole) return 'video message is not a whole JPEG (SOI ... EOI)';
  } else if (trackType === 'audio') {
    if (payload.length !== 4096 * 2) return `audio message is ${payload.length} bytes, not 4096 16-bit samples`;
  } else if (trackType === 'chat') {
    try {
      const chat = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
      for (const key of ['message_id', 'timestamp', 'user', 'message', 'type']) {
        if (!(key in chat)) return `chat message lacks ${key}`;
      }
    } catch (error) {
      return `chat message is not JSON: ${error.message}`;
    }
  }
  return null;
}

/** A sink that reassembles messages across write() boundaries, as a QUIC reader must. */
function trackSink() {
  let buffered = new Uint8Array(0);
  return {
    async write(chunk) {
      // A little latency, so that the page's back-pressure path really waits.
      await new Promise((resolve) => setTimeout(resolve, 2));
      const joined = new Uint8Array(buffered.length + chunk.length);
      joined.set(buffered);
      joined.set(chunk, buffered.length);
      let offset = 0;
      while (joined.length - offset >= TRACK_HEADER_SIZE) {
        const header = decodeTrackHeader(joined, offset);
        const end = offset + TRACK_HEADER_SIZE + header.payloadLength;
        if (end > joined.length) break;
        const payload = joined.subarray(offset + TRACK_HEADER_SIZE, end);
        const tally = (fakeServer.tracks[header.trackId] ??= { trackType: header.trackType, messages: 0, bytes: 0 });
        tally.messages++;
        tally.bytes += payload.length;
        const problem = check(header.trackType, payload);
        if (problem && fakeServer.problems.length < 20) fakeServer.problems.push(`${header.trackId}: ${problem}`);
        offset = end;
      }
      buffered = joined.slice(offset);
    },
    close() {
      if (buffered.length > 0) fakeServer.problems.push(`stream ended inside a message (${buffered.length} bytes left)`);
      fakeServer.finished++;
    },
  };
}

class FakeWebTransport {
  constructor(url, options = {}) {
    fakeServer.url = url;
    fakeServer.options = {
      serverCertificateHashes: (options.serverCertificateHashes ?? []).map((h) => ({
        algorithm: h.algorithm,
        // The page must hand over the decoded hash bytes; record their size to prove it.
        valueBytes: h.value?.byteLength ?? null,
      })),
    };
    let closeSession;
    this.closed = new Promise((resolve) => { closeSession = resolve; });
    this.closeSession = closeSession;
    this.ready = Promise.resolve();
  }

  async createUnidirectionalStream() {
    fakeServer.streams++;
    return new WritableStream(trackSink(), new CountQueuingStrategy({ highWaterMark: 1 }));
  }

  close(info = {}) {
    this.closeSession({ closeCode: info.closeCode ?? 0, reason: info.reason ?? '' });
  }
}

export function installFakeWebTransport() {
  window.WebTransport = FakeWebTransport;
  window.__fakeServer = fakeServer;
}
