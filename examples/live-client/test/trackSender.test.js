// Run with: node --test examples/live-client/test/   (Node 20+, no dependencies)
// TrackSender against an in-memory WritableStream whose sink the test controls, standing in for a
// WebTransport unidirectional stream.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TrackSender, STREAM_ERROR_NAMES } from '../trackSender.js';
import { decodeTrackHeader, TRACK_HEADER_SIZE } from '../trackHeader.js';

/** A fake transport whose stream's writes complete only when the test says so. */
function fakeTransport({ highWaterMark = 1 } = {}) {
  const sink = {
    frames: [],
    pending: [], // resolvers of writes in progress
    closed: false,
    controller: null,
    start(controller) { sink.controller = controller; },
    write(chunk) {
      return new Promise((resolve, reject) => { sink.pending.push({ chunk, resolve, reject }); });
    },
    close() { sink.closed = true; },
    abort(reason) { sink.aborted = reason; },
    /** Completes the oldest write in progress. */
    async completeOne() {
      await settle();
      const next = sink.pending.shift();
      assert.ok(next, 'a write is in progress');
      sink.frames.push(next.chunk);
      next.resolve();
      await settle();
    },
    async failOne(error) {
      await settle();
      sink.pending.shift().reject(error);
      await settle();
    },
  };
  const transport = {
    sink,
    async createUnidirectionalStream() {
      return new WritableStream(sink, new CountQueuingStrategy({ highWaterMark }));
    },
  };
  return transport;
}

/** Lets queued promise callbacks run. */
async function settle() {
  for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** What Chromium rejects with when the peer resets the stream: a WebTransportError-like error. */
function streamError(code) {
  return Object.assign(new Error(`stream reset with ${code}`), { name: 'WebTransportError', source: 'stream', streamErrorCode: code });
}

test('message_countsAsSentOnlyWhenWriteResolved', async () => {
  const transport = fakeTransport();
  const sender = await new TrackSender('live_audio', 'audio').open(transport);

  const sent = sender.send(new Uint8Array([1, 2, 3, 4]));
  await settle();
  assert.equal(sender.stats.messages, 0, 'not counted while the write is in progress');
  assert.equal(sender.busy, true);

  await transport.sink.completeOne();
  assert.equal(await sent, true);
  assert.equal(sender.stats.messages, 1);
  assert.equal(sender.stats.bytes, 4, 'payload bytes, not the 32-byte header');
  assert.equal(sender.busy, false);
  const frame = transport.sink.frames[0];
  assert.equal(frame.length, TRACK_HEADER_SIZE + 4);
  assert.deepEqual(decodeTrackHeader(frame), { trackId: 'live_audio', payloadLength: 4, trackType: 'audio' });
  assert.deepEqual([...frame.subarray(TRACK_HEADER_SIZE)], [1, 2, 3, 4]);
});

test('queuedMessages_areWrittenInOrderOneAtATime', async () => {
  const transport = fakeTransport();
  const sender = await new TrackSender('live_chat', 'chat').open(transport);

  const results = [1, 2, 3, 4, 5].map((n) => sender.send(new Uint8Array(n).fill(n)));
  await settle();
  // Back-pressure: the sender awaits writer.ready, so only one message is handed to the stream at a time.
  assert.equal(transport.sink.pending.length, 1);
  for (let i = 0; i < 5; i++) await transport.sink.completeOne();

  assert.deepEqual(await Promise.all(results), [true, true, true, true, true]);
  assert.deepEqual(transport.sink.frames.map((f) => f.length - TRACK_HEADER_SIZE), [1, 2, 3, 4, 5]);
  assert.deepEqual(transport.sink.frames.map((f) => f[TRACK_HEADER_SIZE]), [1, 2, 3, 4, 5]);
  assert.equal(sender.stats.messages, 5);
  assert.equal(sender.stats.bytes, 15);
});

test('fullQueue_dropsAndCountsInsteadOfGrowing', async () => {
  const transport = fakeTransport();
  const sender = await new TrackSender('live_audio', 'audio', { queueLimit: 2 }).open(transport);

  const results = [sender.send(new Uint8Array(1)), sender.send(new Uint8Array(1)), sender.send(new Uint8Array(1))];
  assert.equal(await results[2], false);
  assert.equal(sender.stats.dropped, 1);
  await transport.sink.completeOne();
  await transport.sink.completeOne();
  assert.deepEqual(await Promise.all(results), [true, true, false]);
  assert.equal(sender.stats.messages, 2);
});

test('streamReset_isReportedWithItsCodeAndLaterMessagesCountAsFailed', async () => {
  const transport = fakeTransport();
  const errors = [];
  const sender = await new TrackSender('live_video', 'video', {
    onError: (error, track) => {
      errors.push({ track, code: error.streamErrorCode });
      return { code: error.streamErrorCode, codeName: STREAM_ERROR_NAMES[error.streamErrorCode] };
    },
  }).open(transport);

  const first = sender.send(new Uint8Array(10));
  const second = sender.send(new Uint8Array(10));
  await transport.sink.failOne(streamError(0x13));

  assert.equal(await first, false);
  assert.equal(await second, false);
  assert.equal(await sender.send(new Uint8Array(10)), false);
  assert.deepEqual(errors, [{ track: 'live_video', code: 0x13 }], 'told once');
  assert.equal(sender.stats.state, 'failed');
  assert.equal(sender.stats.lastError, 'code 0x13 (backend unavailable)');
  assert.equal(sender.stats.messages, 0);
  assert.equal(sender.stats.failed, 3);
  await sender.close(); // closing a failed track neither throws nor hangs
});

test('resetWhileIdle_isNoticedThroughWriterClosed', async () => {
  const transport = fakeTransport();
  let told = null;
  const sender = await new TrackSender('live_chat', 'chat', { onError: (error) => { told = error; return {}; } }).open(transport);

  transport.sink.controller.error(streamError(0x12));
  await settle();

  assert.equal(told?.streamErrorCode, 0x12);
  assert.equal(sender.stats.state, 'failed');
});

test('close_waitsForQueuedMessagesThenSendsFin', async () => {
  const transport = fakeTransport();
  const sender = await new TrackSender('file_a.bin', 'file').open(transport);
  sender.send(new Uint8Array(3));
  sender.send(new Uint8Array(3));

  const closing = sender.close();
  assert.equal(await sender.send(new Uint8Array(1)), false, 'nothing is accepted after close()');
  await settle();
  assert.equal(transport.sink.closed, false, 'FIN waits for the queued messages');
  await transport.sink.completeOne();
  await transport.sink.completeOne();
  await closing;

  assert.equal(transport.sink.closed, true);
  assert.equal(sender.stats.state, 'closed');
  assert.equal(sender.stats.messages, 2);
  assert.equal(sender.stats.failed, 1);
  assert.equal(sender.close(), closing, 'idempotent');
});

test('sharedStats_keepAddingAcrossSenders', async () => {
  const transport = fakeTransport({ highWaterMark: 8 });
  const first = await new TrackSender('file_x', 'file').open(transport);
  first.send(new Uint8Array(5));
  await transport.sink.completeOne();
  await first.close();
  const second = await new TrackSender('file_x', 'file', { stats: first.stats }).open(transport);
  second.send(new Uint8Array(7));
  await transport.sink.completeOne();

  assert.equal(second.stats, first.stats);
  assert.equal(second.stats.messages, 2);
  assert.equal(second.stats.bytes, 12);
});

test('openFailure_isReportedAndRethrown', async () => {
  let told = 0;
  const sender = new TrackSender('live_video', 'video', { onError: () => { told++; return {}; } });
  const transport = { createUnidirectionalStream: async () => { throw new Error('session closed'); } };

  await assert.rejects(sender.open(transport), /session closed/);
  assert.equal(told, 1);
  assert.equal(await sender.send(new Uint8Array(1)), false);
  assert.equal(sender.stats.failed, 1);
});

test('invalidTrackNames_areRefusedBeforeAnyStreamOpens', () => {
  assert.throws(() => new TrackSender('x'.repeat(17), 'video'), RangeError);
  assert.throws(() => new TrackSender('ok', ''), RangeError);
});

test('write_waitsForWriterReady', async () => {
  // A writer whose ready promise the test holds: the stream is applying back-pressure.
  let release;
  const writes = [];
  const writer = {
    ready: new Promise((resolve) => { release = resolve; }),
    closed: new Promise(() => {}),
    write: async (chunk) => { writes.push(chunk); },
    close: async () => {},
  };
  const sender = await new TrackSender('live_video', 'video').open({ createUnidirectionalStream: async () => ({ getWriter: () => writer }) });

  const sent = sender.send(new Uint8Array(2));
  await settle();
  assert.equal(writes.length, 0, 'nothing is written while the stream is not ready');
  release();
  assert.equal(await sent, true);
  assert.equal(writes.length, 1);
});
