// Run with: node --test examples/live-client/test/   (Node 20+, no dependencies)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  TRACK_HEADER_SIZE, MAX_PAYLOAD_LEN,
  encodeTrackHeader, encodeTrackId, encodeTrackType, frameMessage, decodeTrackHeader, makeTrackId,
} from '../trackHeader.js';

const hex = (bytes) => Buffer.from(bytes).toString('hex');

test('header_layout_matchesTheWireContract', () => {
  const header = encodeTrackHeader('live_video', 'video', 11_000);
  assert.equal(header.length, TRACK_HEADER_SIZE);
  // track_id "live_video" + 6 NULs | payload_len 0x00002af8 | "video" + 7 NULs
  assert.equal(hex(header),
    Buffer.from('live_video').toString('hex') + '00'.repeat(6)
    + '00002af8'
    + Buffer.from('video').toString('hex') + '00'.repeat(7));
});

test('payloadLen_isBigEndianUpToU32Max', () => {
  const header = encodeTrackHeader('a', 'b', 0x01020304);
  assert.deepEqual([...header.subarray(16, 20)], [1, 2, 3, 4]);
  const max = encodeTrackHeader('a', 'b', MAX_PAYLOAD_LEN);
  assert.deepEqual([...max.subarray(16, 20)], [0xff, 0xff, 0xff, 0xff]);
});

test('fullWidthFields_haveNoPadding', () => {
  const header = encodeTrackHeader('0123456789abcdef', 'abcdefghijkl', 0);
  assert.equal(Buffer.from(header.subarray(0, 16)).toString(), '0123456789abcdef');
  assert.equal(Buffer.from(header.subarray(20, 32)).toString(), 'abcdefghijkl');
});

test('multiByteUtf8TrackId_countsBytesNotCharacters', () => {
  // 8 x "é" = 16 bytes: fits. 9 would be 18 bytes: refused.
  assert.equal(encodeTrackId('é'.repeat(8)).length, 16);
  assert.throws(() => encodeTrackId('é'.repeat(9)), RangeError);
  assert.throws(() => encodeTrackId('0123456789abcdefg'), RangeError);
});

test('reusedTarget_isFullyRePadded', () => {
  const target = new Uint8Array(40).fill(0xee);
  encodeTrackHeader('a_much_longer_id', 'screen_share', 5, target, 4);
  encodeTrackHeader('x', 'y', 6, target, 4);
  assert.deepEqual(decodeTrackHeader(target, 4), { trackId: 'x', payloadLength: 6, trackType: 'y' });
  assert.equal(target[0], 0xee, 'bytes before the offset are untouched');
  assert.equal(target[36], 0xee, 'bytes after the header are untouched');
  assert.ok(target.subarray(5, 20).every((b, i) => i >= 11 || b === 0), 'old id bytes are cleared');
});

const refusals = [
  ['NUL inside track_id', () => encodeTrackId('a\0b')],
  ['lone surrogate in track_id', () => encodeTrackId('a\ud800')],
  ['non-string track_id', () => encodeTrackId(42)],
  ['empty track_type', () => encodeTrackType('')],
  ['13-character track_type', () => encodeTrackType('abcdefghijklm')],
  ['non-ASCII track_type', () => encodeTrackType('vidéo')],
  ['control character in track_type', () => encodeTrackType('vid\neo')],
  ['DEL in track_type', () => encodeTrackType('vid\x7f')],
  ['negative payload_len', () => encodeTrackHeader('a', 'b', -1)],
  ['fractional payload_len', () => encodeTrackHeader('a', 'b', 1.5)],
  ['payload_len above u32', () => encodeTrackHeader('a', 'b', MAX_PAYLOAD_LEN + 1)],
  ['target too short', () => encodeTrackHeader('a', 'b', 1, new Uint8Array(31))],
  ['target too short at offset', () => encodeTrackHeader('a', 'b', 1, new Uint8Array(40), 9)],
  ['oversized id bytes', () => encodeTrackHeader(new Uint8Array(17), 'b', 1)],
  ['empty type bytes', () => encodeTrackHeader('a', new Uint8Array(0), 1)],
  ['payload of the wrong kind', () => frameMessage('a', 'b', { length: 3 })],
];
for (const [name, action] of refusals) {
  test(`refused_${name.replaceAll(' ', '_')}`, () => {
    assert.throws(action, (e) => e instanceof RangeError || e instanceof TypeError);
  });
}

test('printableAsciiBounds_areAccepted', () => {
  // Space (0x20) and tilde (0x7e) are the ends of the range the gateway accepts.
  assert.deepEqual([...encodeTrackType(' ~')], [0x20, 0x7e]);
});

test('frameMessage_isHeaderThenPayload', () => {
  const backing = new Uint8Array([9, 9, 1, 2, 3, 9]);
  const view = backing.subarray(2, 5);
  for (const payload of [view, new Uint8Array([1, 2, 3]).buffer, new Int8Array([1, 2, 3]), new DataView(backing.buffer, 2, 3)]) {
    const frame = frameMessage('live_audio', 'audio', payload);
    assert.equal(frame.length, 35);
    assert.deepEqual(decodeTrackHeader(frame), { trackId: 'live_audio', payloadLength: 3, trackType: 'audio' });
    assert.deepEqual([...frame.subarray(32)], [1, 2, 3]);
  }
  const chat = frameMessage('live_chat', 'chat', '{"m":"é"}');
  assert.equal(decodeTrackHeader(chat).payloadLength, 10);
});

test('emptyPayload_isAHeaderAlone', () => {
  const frame = frameMessage('', 'file', new Uint8Array(0));
  assert.equal(frame.length, 32);
  assert.deepEqual(decodeTrackHeader(frame), { trackId: '', payloadLength: 0, trackType: 'file' });
});

test('decode_refusesWhatTheGatewayRefuses', () => {
  const good = encodeTrackHeader('abc', 'video', 1);
  const gap = good.slice(); gap[5] = 0x41; // a byte after the id's padding
  assert.throws(() => decodeTrackHeader(gap), /track_id has a non-NUL byte after its NUL padding/);
  const typeGap = good.slice(); typeGap[30] = 0x41;
  assert.throws(() => decodeTrackHeader(typeGap), /track_type has a non-NUL byte/);
  const emptyType = good.slice(); emptyType.fill(0, 20);
  assert.throws(() => decodeTrackHeader(emptyType), /track_type is empty/);
  const badUtf8 = good.slice(); badUtf8[0] = 0xc3; badUtf8[1] = 0x28;
  assert.throws(() => decodeTrackHeader(badUtf8), /not valid UTF-8/);
  const control = good.slice(); control[20] = 0x09;
  assert.throws(() => decodeTrackHeader(control), /printable ASCII/);
  assert.throws(() => decodeTrackHeader(good.subarray(0, 31)), RangeError);
});

test('randomHeaders_roundTrip', () => {
  // Seeded generator so that a failure is reproducible.
  let seed = 0x5eed;
  const next = (n) => { seed = (seed * 1103515245 + 12345) >>> 0; return seed % n; };
  const alphabet = ['a', 'Z', '_', '-', '0', 'é', '€', '😀', ' '];
  const deadline = Date.now() + 1000;
  let cases = 0;
  while (Date.now() < deadline) {
    let id = '';
    for (let i = next(12); i > 0; i--) id += alphabet[next(alphabet.length)];
    id = makeTrackId('', id);
    let type = '';
    for (let i = 1 + next(12); i > 0; i--) type += String.fromCharCode(0x20 + next(0x5f));
    const length = next(2) === 0 ? next(1 << 20) : (next(0x10000) * 0x10000 + next(0x10000));
    assert.deepEqual(decodeTrackHeader(encodeTrackHeader(id, type, length)), { trackId: id, payloadLength: length, trackType: type });
    cases++;
  }
  assert.ok(cases > 100);
});

test('makeTrackId_cutsAtCharacterBoundariesTo16Bytes', () => {
  assert.equal(makeTrackId('file_', 'report.pdf'), 'file_report.pdf');
  assert.equal(makeTrackId('file_', 'a-very-long-file-name.bin'), 'file_a-very-long');
  // "file_" (5) + 5 x "€" (3 bytes each) = 20 bytes: only three euros fit (14 bytes), a fourth would make 17.
  assert.equal(makeTrackId('file_', '€€€€€'), 'file_€€€');
  assert.equal(makeTrackId('file_', 'a\0b'), 'file_ab');
  assert.equal(makeTrackId('file_', '\ud800x'), 'file_\ufffdx');
  for (const name of ['😀😀😀😀😀', 'ééééééééééé', 'x'.repeat(40)]) {
    assert.ok(encodeTrackId(makeTrackId('file_', name)).length <= 16);
  }
});
