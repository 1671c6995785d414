// Headless Chromium smoke test of the live client page. Not part of `node --test` (it needs Chromium).
//
//   node examples/live-client/smoke/headless-smoke.mjs [noserver|certhash|fake ...]   (default: all three)
//
//   noserver  page served by `python3 -m http.server` (no /cert-hash), no WebTransport server:
//             the page must load without script errors and POST a failure report.
//   certhash  page served with a /cert-hash endpoint, no WebTransport server: same, and the hash was used.
//   fakeextra as fake, and also sends two files and shares the screen (not in the default set).
//   fake      smoke/harness.html: the real page over an in-page fake WebTransport, with Chromium's fake
//             camera and microphone; the report must match what the fake server received, message
//             for message and byte for byte, with every message well formed.
//
// Environment: CHROMIUM (default /usr/bin/chromium), DURATION seconds for `fake` (default 5),
// VIDEO=720p for the 1280x720@30 camera mode, AUTOPLAY_FLAG=0 to run without --autoplay-policy.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, extname, normalize, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const chromium = process.env.CHROMIUM ?? '/usr/bin/chromium';
const duration = Number(process.env.DURATION ?? 5);
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json' };

function listen(server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
}

/** A static server for the folder; with a hash, it also answers /cert-hash as the gateway will. */
async function staticServer(certHash) {
  const server = createServer(async (req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    if (path === '/cert-hash' && certHash) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ algorithm: 'sha-256', value: certHash }));
      return;
    }
    const file = normalize(join(root, path === '/' ? 'index.html' : path));
    if (!file.startsWith(root)) { res.writeHead(403).end(); return; }
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return { port: await listen(server), close: () => server.close() };
}

/** `python3 -m http.server` on the folder, as a developer would serve it. */
async function pythonServer() {
  const probe = createServer();
  const port = await listen(probe);
  probe.close();
  const child = spawn('python3', ['-m', 'http.server', String(port), '--bind', '127.0.0.1', '--directory', root], { stdio: 'ignore' });
  for (let i = 0; i < 50; i++) {
    try { await fetch(`http://127.0.0.1:${port}/index.html`); return { port, close: () => child.kill() }; } catch { await new Promise((r) => setTimeout(r, 100)); }
  }
  child.kill();
  throw new Error('python3 -m http.server did not start');
}

/** A one-shot receiver for the page's report POST. */
async function reportReceiver() {
  let deliver;
  const received = new Promise((resolve) => { deliver = resolve; });
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      res.writeHead(204).end();
      if (req.method === 'POST') deliver({ contentType: req.headers['content-type'], body });
    });
  });
  return { port: await listen(server), received, close: () => server.close() };
}

async function run(mode) {
  const certHash = mode === 'noserver' ? null : randomBytes(32).toString('base64');
  const site = mode === 'noserver' ? await pythonServer() : await staticServer(certHash);
  const receiver = await reportReceiver();
  // A port with nothing behind it: the WebTransport handshake must fail (or, in `fake`, is never used).
  const deadPort = await (async () => { const s = createServer(); const p = await listen(s); s.close(); return p; })();
  const fake = mode.startsWith('fake');
  const page = fake ? 'smoke/harness.html' : 'index.html';
  const query = new URLSearchParams({
    autostart: '1', duration: String(fake ? duration : 2), chatEvery: '500',
    ...(mode === 'fakeextra' ? { extra: '1' } : {}),
    report: `http://127.0.0.1:${receiver.port}/report`, wt: `https://127.0.0.1:${deadPort}/wt`,
    ...(process.env.VIDEO ? { video: process.env.VIDEO } : {}),
  });
  const url = `http://127.0.0.1:${site.port}/${page}?${query}`;
  const profile = mkdtempSync(join(tmpdir(), 'sy-chromium-'));
  const args = [
    '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`,
    '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
    ...(process.env.AUTOPLAY_FLAG === '0' ? [] : ['--autoplay-policy=no-user-gesture-required']),
    '--enable-logging=stderr', '--v=0', url,
  ];
  // detached: Chromium and its helpers get their own process group, which we end by its id below.
  const browser = spawn(chromium, args, { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  browser.stderr.on('data', (c) => { stderr += c; });
  const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('no report within the time limit')), (duration + 60) * 1000));
  try {
    const { contentType, body } = await Promise.race([receiver.received, timeout]);
    const report = JSON.parse(body);
    const console = stderr.split('\n').filter((l) => l.includes(':CONSOLE'));
    const uncaught = console.filter((l) => /Uncaught|SyntaxError|ReferenceError|TypeError/.test(l));
    assert.deepEqual(uncaught, [], 'no uncaught script errors');
    assert.deepEqual(report.errors.filter((e) => e.kind === 'script'), [], 'no script errors in the report');
    assert.deepEqual(Object.keys(report.tracks).filter((k) => k.startsWith('live_') && k !== 'live_screen').sort(), ['live_audio', 'live_chat', 'live_video']);
    assert.match(contentType, /^text\/plain/);
    if (fake) checkFake(report, certHash, mode === 'fakeextra');
    else checkFailure(report, mode);
    return { mode, ok: true, state: report.state, tracks: report.tracks, formats: Object.fromEntries(Object.entries(report.details.tracks).map(([k, v]) => [k, v.format])), errors: report.errors.map((e) => `${e.kind}: ${e.message}`) };
  } finally {
    try { process.kill(-browser.pid, 'SIGKILL'); } catch { /* already gone */ }
    site.close();
    receiver.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

function checkFailure(report, mode) {
  assert.equal(report.state, 'failed');
  assert.ok(report.errors.some((e) => e.kind === 'connection'), 'the failed handshake is reported');
  for (const t of Object.values(report.tracks)) assert.deepEqual(t, { messages: 0, bytes: 0 });
  assert.equal(report.details.certHashSource, mode === 'certhash' ? '/cert-hash' : 'none');
}

function checkFake(report, certHash, extra) {
  const server = report.fakeServer;
  assert.ok(server, 'the harness added the fake server tallies');
  assert.deepEqual(report.errors, [], 'no errors at all');
  assert.equal(report.state, 'connected', 'still connected when the report was made');
  assert.deepEqual(server.problems, [], 'every message was well formed');
  assert.deepEqual(server.options.serverCertificateHashes, [{ algorithm: 'sha-256', valueBytes: Buffer.from(certHash, 'base64').length }]);
  // One stream per track; with extra: two files and the screen share too.
  const streams = extra ? 6 : 3;
  assert.equal(server.streams, streams, 'one stream per track');
  assert.equal(server.finished, streams, 'every stream ended with FIN');
  if (extra) {
    assert.deepEqual(report.tracks["file_a-very-long"], { messages: 4, bytes: 200 * 1024 + 123 }, '64 KiB chunks, id cut to 16 bytes');
    assert.deepEqual(report.tracks['file_empty.txt'], { messages: 1, bytes: 0 });
    assert.ok(report.tracks.live_screen.messages > 0, 'screen frames sent');
  }
  for (const [id, sent] of Object.entries(report.tracks)) {
    assert.deepEqual({ messages: server.tracks[id]?.messages, bytes: server.tracks[id]?.bytes }, sent, `${id}: what the page counted is what arrived`);
  }
  for (const [id, type] of [['live_video', 'video'], ['live_audio', 'audio'], ['live_chat', 'chat']]) {
    const sent = report.tracks[id];
    const got = server.tracks[id];
    assert.ok(sent.messages > 0, `${id} sent messages`);
    assert.deepEqual({ messages: got.messages, bytes: got.bytes }, sent, `${id}: what the page counted is what arrived`);
    assert.equal(got.trackType, type);
  }
  // Chat every 500 ms for `duration` seconds, give or take the first and last tick.
  assert.ok(Math.abs(report.tracks.live_chat.messages - duration * 2) <= 2, `about ${duration * 2} chat messages`);
}

const modes = process.argv.slice(2).length ? process.argv.slice(2) : ['noserver', 'certhash', 'fake'];
let failed = false;
for (const mode of modes) {
  try {
    console.log(JSON.stringify(await run(mode)));
  } catch (error) {
    failed = true;
    console.error(`${mode}: FAILED: ${error.stack ?? error}`);
  }
}
process.exit(failed ? 1 : 0);
