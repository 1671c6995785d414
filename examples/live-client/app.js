// Switchyard live client: sends camera, microphone, chat, file and screen tracks over one
// WebTransport session, each track on its own unidirectional stream, every message framed with
// the 32-byte track header (see trackHeader.js).
//
// Query parameters (all optional):
//   wt=URL            WebTransport URL (default https://127.0.0.1:4433/wt)
//   certHash=BASE64   SHA-256 of the server certificate, instead of fetching /cert-hash
//   video=480p|720p   camera mode: 640x480 at 15 fps (default) or 1280x720 at 30 fps
//   user=NAME         chat user name
//   autostart=1       start camera + microphone at once, chat every `chatEvery` ms,
//   duration=S        stop after S seconds (default 20), close the streams cleanly,
//   chatEvery=MS      (default 1000; 0 = no chat)
//   report=URL        then POST the result JSON to URL (also on failure)

import { makeTrackId } from './trackHeader.js';
import { STREAM_ERROR_NAMES, TrackSender } from './trackSender.js';

const params = new URLSearchParams(location.search);

const VIDEO_MODES = {
  '480p': { width: 640, height: 480, fps: 15 },
  '720p': { width: 1280, height: 720, fps: 30 },
};

const config = {
  wtUrl: params.get('wt') || 'https://127.0.0.1:4433/wt',
  certHash: params.get('certHash'),
  videoMode: VIDEO_MODES[params.get('video')] ? params.get('video') : '480p',
  user: params.get('user') || 'browser',
  autostart: params.get('autostart') === '1',
  durationMs: numberParam('duration', 20) * 1000,
  chatEveryMs: numberParam('chatEvery', 1000),
  reportUrl: params.get('report'),
};

const JPEG_QUALITY = 0.7;
const AUDIO_CHUNK_SAMPLES = 4096;
const FILE_CHUNK_BYTES = 64 * 1024;
// Audio chunks arrive at a fixed pace whether or not the network keeps up. About 3 s of them may
// wait for the stream; past that a chunk is dropped and counted as dropped, never silently.
const AUDIO_QUEUE_LIMIT = 32;
const CHAT_QUEUE_LIMIT = 256;
const MAX_REPORTED_ERRORS = 100;

// Everything the page knows, also exposed as window.__switchyard for debugging and for tests.
const app = {
  config,
  state: 'idle', // idle | connecting | connected | closed | failed
  stateDetail: '',
  certHashSource: 'none',
  tracks: {}, // trackId -> stats object (see TrackSender)
  errors: [],
  errorsOmitted: 0,
  transport: null,
  report: null,
  reportPosted: false,
  done: false,
  snapshot,
  // The page's actions, for the console and for tests: the same functions the buttons call.
  actions: null,
};
window.__switchyard = app;

const clientId = crypto.randomUUID().slice(0, 8);
const $ = (id) => document.getElementById(id);

// ---------------------------------------------------------------------------------------------
// Errors and state

/** Records an error for the page, the report and window.__switchyard; never throws. */
function recordError(kind, error, track) {
  const entry = {
    time: new Date().toISOString(),
    kind, // script | connection | stream | media | report
    message: describe(error),
  };
  if (track) entry.track = track;
  // WebTransportError carries the peer's application error code for stream resets.
  if (error && typeof error === 'object' && 'streamErrorCode' in error && error.streamErrorCode !== null) {
    entry.code = error.streamErrorCode;
    entry.codeName = STREAM_ERROR_NAMES[error.streamErrorCode] ?? 'unknown';
  }
  if (error && typeof error === 'object' && 'source' in error) entry.source = error.source;
  if (app.errors.length < MAX_REPORTED_ERRORS) app.errors.push(entry);
  else app.errorsOmitted++;
  console.warn(`[switchyard] ${kind}${track ? ` ${track}` : ''}: ${entry.message}${entry.code !== undefined ? ` (code ${entry.code})` : ''}`);
  return entry;
}

function describe(error) {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  if (typeof error === 'string') return error;
  try { return JSON.stringify(error); } catch { return String(error); }
}

function setState(state, detail = '') {
  app.state = state;
  app.stateDetail = detail;
}

// Anything unexpected still ends up in the report, so an automated run fails with a reason.
window.addEventListener('error', (event) => recordError('script', event.error ?? event.message));
window.addEventListener('unhandledrejection', (event) => recordError('script', event.reason));

// ---------------------------------------------------------------------------------------------
// Connection

/** The certificate hash: ?certHash= wins, else /cert-hash from this page's origin, else none. */
async function loadCertificateHash() {
  if (config.certHash) {
    app.certHashSource = 'query';
    return base64ToBytes(config.certHash).buffer;
  }
  let response;
  try {
    response = await fetch(new URL('/cert-hash', location.origin), { cache: 'no-store' });
  } catch (error) {
    recordError('connection', `cannot fetch /cert-hash: ${describe(error)}`);
    return null;
  }
  if (!response.ok) {
    // Not fatal: a browser started with --ignore-certificate-errors-spki-list needs no hash.
    console.info(`[switchyard] /cert-hash answered ${response.status}; connecting without serverCertificateHashes`);
    return null;
  }
  const body = await response.json();
  if (body?.algorithm !== 'sha-256' || typeof body.value !== 'string') {
    throw new Error(`/cert-hash must be {"algorithm":"sha-256","value":"<base64>"}, got ${JSON.stringify(body)}`);
  }
  const hash = base64ToBytes(body.value);
  if (hash.length !== 32) throw new Error(`/cert-hash value decodes to ${hash.length} bytes; SHA-256 is 32`);
  app.certHashSource = '/cert-hash';
  return hash.buffer;
}

async function connect() {
  if (app.state === 'connecting' || app.state === 'connected') return app.transport;
  if (typeof WebTransport === 'undefined') {
    setState('failed', 'this browser has no WebTransport (or the page is not a secure context)');
    throw new Error(app.stateDetail);
  }
  setState('connecting');
  let transport;
  try {
    const hash = await loadCertificateHash();
    const options = hash ? { serverCertificateHashes: [{ algorithm: 'sha-256', value: hash }] } : {};
    transport = new WebTransport(config.wtUrl, options);
    app.transport = transport;
    await transport.ready;
  } catch (error) {
    setState('failed', describe(error));
    recordError('connection', error);
    throw error;
  }
  setState('connected');
  // The session may end later (server close, idle timeout, network loss): keep the page honest.
  transport.closed.then(
    (info) => {
      if (app.transport !== transport) return;
      setState('closed', info?.reason ? `${info.closeCode ?? ''} ${info.reason}`.trim() : `code ${info?.closeCode ?? 0}`);
    },
    (error) => {
      if (app.transport !== transport) return;
      setState('failed', describe(error));
      recordError('connection', error);
    });
  return transport;
}

async function disconnect(reason = 'client closed') {
  await stopAll();
  const transport = app.transport;
  if (transport && app.state === 'connected') {
    transport.close({ closeCode: 0, reason });
    await transport.closed.catch(() => {});
  }
  setState('closed', reason);
}

// ---------------------------------------------------------------------------------------------
// Tracks

/** A TrackSender (trackSender.js) whose statistics appear on the page and in the report. */
function newTrack(trackId, trackType, options = {}) {
  const sender = new TrackSender(trackId, trackType, {
    ...options,
    // A track that is sent again (a second file of the same name) keeps adding to its row.
    stats: app.tracks[trackId],
    onError: (error, track) => recordError('stream', error, track),
  });
  app.tracks[trackId] = sender.stats;
  return sender;
}

// ---------------------------------------------------------------------------------------------
// Media sources. Each start function returns { stop(): Promise } and records its own failures.

const running = {}; // name -> { sender, stop }

/** Captures JPEG frames from a video MediaStream at `fps` and sends each as one message. */
async function startJpegTrack(name, sender, mediaStream, fps, preview) {
  preview.srcObject = mediaStream;
  preview.muted = true;
  await preview.play().catch(() => {}); // a hidden preview may refuse to play; drawing still works once frames flow
  const canvas = document.createElement('canvas');
  const context = canvas.getContext('2d');
  let inflight = null;
  const tick = () => {
    // Never queue frames: a live picture that waits is stale. Skip this tick and count it instead.
    if (inflight || sender.busy) {
      sender.stats.skipped++;
      return;
    }
    if (preview.videoWidth === 0) return; // no frame decoded yet
    inflight = (async () => {
      if (canvas.width !== preview.videoWidth || canvas.height !== preview.videoHeight) {
        canvas.width = preview.videoWidth;
        canvas.height = preview.videoHeight;
      }
      context.drawImage(preview, 0, 0, canvas.width, canvas.height);
      const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', JPEG_QUALITY));
      if (!blob) throw new Error('canvas.toBlob produced no JPEG');
      sender.stats.resolution = `${canvas.width}x${canvas.height}`;
      await sender.send(new Uint8Array(await blob.arrayBuffer()));
    })().catch((error) => recordError('media', error, sender.trackId)).finally(() => { inflight = null; });
  };
  const timer = setInterval(tick, 1000 / fps);
  // The user can end a screen share from the browser's own UI.
  for (const track of mediaStream.getVideoTracks()) {
    track.addEventListener('ended', () => { stopTrack(name); });
  }
  return {
    sender,
    async stop() {
      clearInterval(timer);
      await inflight;
      mediaStream.getTracks().forEach((t) => t.stop());
      preview.srcObject = null;
      await sender.close();
    },
  };
}

async function startCamera() {
  if (running.video) return;
  const mode = VIDEO_MODES[$('video-mode').value] ?? VIDEO_MODES[config.videoMode];
  const transport = requireConnection();
  const sender = newTrack('live_video', 'video');
  running.video = { sender, stop: async () => sender.close() }; // placeholder while starting
  try {
    const media = await navigator.mediaDevices.getUserMedia({
      video: { width: { ideal: mode.width }, height: { ideal: mode.height }, frameRate: { ideal: mode.fps } },
      audio: false,
    });
    await sender.open(transport);
    running.video = await startJpegTrack('video', sender, media, mode.fps, $('camera-preview'));
  } catch (error) {
    recordError('media', error, 'live_video');
    delete running.video;
    await sender.close();
  }
}

async function startScreen() {
  if (running.screen) return;
  const transport = requireConnection();
  const sender = newTrack('live_screen', 'screen');
  running.screen = { sender, stop: async () => sender.close() };
  try {
    const media = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 5 } }, audio: false });
    await sender.open(transport);
    running.screen = await startJpegTrack('screen', sender, media, 5, $('screen-preview'));
  } catch (error) {
    recordError('media', error, 'live_screen');
    delete running.screen;
    await sender.close();
  }
}

/** Float samples [-1, 1] to 16-bit little-endian PCM (the same conversion as pcmWorklet.js). */
function floatToPcm16(samples) {
  const out = new Uint8Array(samples.length * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < samples.length; i++) {
    const s = Math.max(-1, Math.min(1, samples[i]));
    view.setInt16(2 * i, s < 0 ? s * 0x8000 : s * 0x7fff, true);
  }
  return out;
}

async function startMicrophone() {
  if (running.audio) return;
  const transport = requireConnection();
  const sender = newTrack('live_audio', 'audio', { queueLimit: AUDIO_QUEUE_LIMIT });
  running.audio = { sender, stop: async () => sender.close() };
  let media;
  let context;
  try {
    media = await navigator.mediaDevices.getUserMedia({
      // Raw signal: the processors measure the level, which these filters would change.
      audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false },
      video: false,
    });
    await sender.open(transport);
    context = new AudioContext();
    await context.resume();
    if (context.state !== 'running') {
      throw new Error(`AudioContext is ${context.state}: it needs a click on the page (or --autoplay-policy=no-user-gesture-required)`);
    }
    const source = context.createMediaStreamSource(media);
    let node;
    if (context.audioWorklet) {
      await context.audioWorklet.addModule(new URL('./pcmWorklet.js', import.meta.url));
      node = new AudioWorkletNode(context, 'pcm-chunker', {
        processorOptions: { chunkSamples: AUDIO_CHUNK_SAMPLES },
        numberOfOutputs: 1,
        outputChannelCount: [1],
      });
      node.port.onmessage = (event) => { sender.send(new Uint8Array(event.data)); };
    } else {
      // Older engines: ScriptProcessor runs on the main thread but gives the same chunks.
      node = context.createScriptProcessor(AUDIO_CHUNK_SAMPLES, 1, 1);
      node.onaudioprocess = (event) => { sender.send(floatToPcm16(event.inputBuffer.getChannelData(0))); };
    }
    // The graph only runs nodes that lead to the destination; a muted gain keeps the microphone
    // out of the speakers.
    const mute = context.createGain();
    mute.gain.value = 0;
    source.connect(node).connect(mute).connect(context.destination);
    sender.stats.resolution = `${context.sampleRate} Hz mono s16le`;
    running.audio = {
      sender,
      async stop() {
        if (node.port) node.port.onmessage = null; else node.onaudioprocess = null;
        source.disconnect();
        media.getTracks().forEach((t) => t.stop());
        await context.close();
        await sender.close();
      },
    };
  } catch (error) {
    recordError('media', error, 'live_audio');
    delete running.audio;
    media?.getTracks().forEach((t) => t.stop());
    await context?.close().catch(() => {});
    await sender.close();
  }
}

let chatOpening = null; // Promise<TrackSender> of the open chat stream, shared by concurrent senders
let chatCount = 0;
let chatTimer = null;

/** The chat stream, opened on first use; a failed or closed one is replaced by a new stream. */
async function chatTrack() {
  while (chatOpening) {
    const opening = chatOpening;
    const current = await opening.catch(() => null);
    if (current && !current.failed && !current.closing) return current;
    if (chatOpening === opening) break; // nobody replaced it while we waited: replace it below
  }
  // Stored before the first await, so that messages sent while the stream opens wait for it
  // instead of each opening a stream of their own.
  chatOpening = (async () => {
    const sender = newTrack('live_chat', 'chat', { queueLimit: CHAT_QUEUE_LIMIT });
    await sender.open(requireConnection());
    running.chat = { sender, stop: async () => { stopChatTimer(); await sender.close(); } };
    return sender;
  })();
  return chatOpening;
}

/** Sends one chat message in the seed's JSON shape. */
async function sendChat(text) {
  const sender = await chatTrack();
  chatCount++;
  const message = {
    message_id: `${clientId}-${chatCount}`,
    timestamp: Date.now(),
    user: config.user,
    message: text,
    type: 'chat',
  };
  return sender.send(new TextEncoder().encode(JSON.stringify(message)));
}

function startChatTimer(everyMs) {
  stopChatTimer();
  if (!(everyMs > 0)) return;
  chatTimer = setInterval(() => {
    sendChat(`automatic message ${chatCount + 1}`).catch((error) => recordError('stream', error, 'live_chat'));
  }, everyMs);
}

function stopChatTimer() {
  if (chatTimer) clearInterval(chatTimer);
  chatTimer = null;
}

/** Sends a file as 64 KiB messages on a fresh stream, then closes that stream. */
async function sendFile(file) {
  const sender = newTrack(makeTrackId('file_', file.name), 'file');
  sender.stats.resolution = `${file.size} bytes`;
  try {
    await sender.open(requireConnection());
    if (file.size === 0) {
      await sender.send(new Uint8Array(0)); // an empty file is still one message, so the backend sees it
    }
    for (let offset = 0; offset < file.size && !sender.failed; offset += FILE_CHUNK_BYTES) {
      const chunk = new Uint8Array(await file.slice(offset, offset + FILE_CHUNK_BYTES).arrayBuffer());
      // Awaiting each chunk is the back-pressure: a large file is read only as fast as it is sent.
      await sender.send(chunk);
    }
  } catch (error) {
    recordError('media', error, sender.trackId);
  } finally {
    await sender.close();
  }
}

async function stopTrack(name) {
  const entry = running[name];
  if (!entry) return;
  delete running[name];
  try {
    await entry.stop();
  } catch (error) {
    recordError('media', error, entry.sender?.trackId);
  }
}

async function stopAll() {
  stopChatTimer();
  await Promise.all(Object.keys(running).map(stopTrack));
}

function requireConnection() {
  if (app.state !== 'connected' || !app.transport) {
    throw new Error(`not connected (state: ${app.state})`);
  }
  return app.transport;
}

// ---------------------------------------------------------------------------------------------
// Report (automation) and debugging snapshot

/** The report shape: { tracks: { id: { messages, bytes } }, errors, state, details }. */
function snapshot() {
  const tracks = {};
  const details = {};
  // The automated run always reports its three tracks, even when one never started.
  const ids = new Set(config.autostart ? ['live_video', 'live_audio', 'live_chat'] : []);
  Object.keys(app.tracks).forEach((id) => ids.add(id));
  for (const id of ids) {
    const s = app.tracks[id];
    tracks[id] = { messages: s?.messages ?? 0, bytes: s?.bytes ?? 0 };
    details[id] = s
      ? { trackType: s.trackType, state: s.state, skipped: s.skipped, dropped: s.dropped, failed: s.failed, format: s.resolution ?? '' }
      : { state: 'never started' };
  }
  return {
    tracks,
    errors: app.errors.slice(),
    state: app.state,
    details: {
      stateDetail: app.stateDetail,
      url: config.wtUrl,
      certHashSource: app.certHashSource,
      errorsOmitted: app.errorsOmitted,
      userAgent: navigator.userAgent,
      tracks: details,
    },
  };
}

/** POSTs the report once. text/plain keeps it a "simple" request: no CORS preflight to answer. */
async function postReport() {
  if (app.reportPosted || !config.reportUrl) return;
  app.reportPosted = true;
  const report = snapshot();
  app.report = report;
  const body = JSON.stringify(report);
  try {
    await fetch(config.reportUrl, { method: 'POST', mode: 'no-cors', headers: { 'Content-Type': 'text/plain;charset=UTF-8' }, body });
  } catch (error) {
    recordError('report', error);
    // The beacon is queued by the browser even if this page goes away.
    if (!navigator.sendBeacon?.(config.reportUrl, new Blob([body], { type: 'text/plain;charset=UTF-8' }))) {
      app.reportPosted = false;
    }
  }
}

async function autoRun() {
  // Whatever happens, a report goes out: a watchdog covers a hang anywhere below.
  const watchdog = setTimeout(() => {
    recordError('script', `automated run did not finish within ${config.durationMs / 1000 + 60} s`);
    postReport();
  }, config.durationMs + 60_000);
  try {
    await connect();
    await Promise.all([startCamera(), startMicrophone()]);
    await chatTrack();
    startChatTimer(config.chatEveryMs);
    await sleep(config.durationMs);
    await stopAll();
    // Let the last messages leave the QUIC send buffer before anyone reads the backends' counters.
    await sleep(1000);
  } catch (error) {
    if (!app.errors.some((e) => e.message === describe(error))) recordError('script', error);
    await stopAll().catch(() => {});
  } finally {
    clearTimeout(watchdog);
    app.done = true;
    await postReport();
    if (app.state === 'connected') await disconnect('automated run finished');
  }
}

// ---------------------------------------------------------------------------------------------
// Page

function render() {
  $('state').textContent = app.state;
  $('state').dataset.state = app.state;
  $('state-detail').textContent = app.stateDetail;
  $('wt-url').textContent = config.wtUrl;
  $('cert-source').textContent = app.certHashSource;

  const body = $('tracks');
  const rows = Object.values(app.tracks).map((s) => {
    const tr = document.createElement('tr');
    const cells = [s.trackId, s.trackType, s.state, s.resolution ?? '', s.messages, formatBytes(s.bytes),
      formatRate(s.bytesPerSecond), `${s.skipped} / ${s.dropped} / ${s.failed}`, s.lastError];
    for (const value of cells) {
      const td = document.createElement('td');
      td.textContent = String(value);
      tr.append(td);
    }
    tr.dataset.state = s.state;
    return tr;
  });
  body.replaceChildren(...rows);

  const list = $('errors');
  list.replaceChildren(...app.errors.slice(-20).reverse().map((e) => {
    const li = document.createElement('li');
    const code = e.code !== undefined ? ` [stream error 0x${e.code.toString(16)}: ${e.codeName}]` : '';
    li.textContent = `${e.time.slice(11, 19)} ${e.kind}${e.track ? ` ${e.track}` : ''}${code}: ${e.message}`;
    return li;
  }));

  const connected = app.state === 'connected';
  for (const id of ['camera', 'mic', 'screen', 'chat-send', 'file-send']) $(id).disabled = !connected;
  $('connect').textContent = connected ? 'Disconnect' : 'Connect';
  $('connect').disabled = app.state === 'connecting';
  $('camera').textContent = running.video ? 'Stop camera' : 'Start camera';
  $('mic').textContent = running.audio ? 'Stop microphone' : 'Start microphone';
  $('screen').textContent = running.screen ? 'Stop screen share' : 'Share screen';
}

/** Once a second: bytes sent since the last tick, per track. */
function updateRates(elapsedSeconds) {
  for (const s of Object.values(app.tracks)) {
    s.bytesPerSecond = (s.bytes - s.lastBytes) / elapsedSeconds;
    s.lastBytes = s.bytes;
  }
}

function wireControls() {
  $('video-mode').value = config.videoMode;
  const guard = (action) => () => action().catch((error) => recordError('script', error));
  $('connect').addEventListener('click', guard(() => (app.state === 'connected' ? disconnect() : connect())));
  $('camera').addEventListener('click', guard(() => (running.video ? stopTrack('video') : startCamera())));
  $('mic').addEventListener('click', guard(() => (running.audio ? stopTrack('audio') : startMicrophone())));
  $('screen').addEventListener('click', guard(() => (running.screen ? stopTrack('screen') : startScreen())));
  $('chat-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const text = $('chat-text').value.trim();
    if (!text) return;
    $('chat-text').value = '';
    sendChat(text).catch((error) => recordError('stream', error, 'live_chat'));
  });
  $('file-send').addEventListener('click', guard(async () => {
    for (const file of $('file').files) await sendFile(file);
  }));
}

function main() {
  app.actions = { connect, disconnect, startCamera, startMicrophone, startScreen, sendChat, sendFile, stopTrack, stopAll, postReport };
  wireControls();
  let last = performance.now();
  setInterval(() => {
    const now = performance.now();
    updateRates((now - last) / 1000);
    last = now;
  }, 1000);
  setInterval(render, 250);
  render();
  if (config.autostart) {
    autoRun();
  } else {
    connect().catch(() => {}); // recorded by connect(); the button retries
  }
}

// ---------------------------------------------------------------------------------------------
// Small helpers

function numberParam(name, fallback) {
  const value = Number(params.get(name));
  return params.has(name) && Number.isFinite(value) && value >= 0 ? value : fallback;
}

function sleep(ms) { return new Promise((resolve) => setTimeout(resolve, ms)); }

function base64ToBytes(text) {
  // Accept base64url too: hashes pasted from tools come in both alphabets.
  const normal = text.replaceAll('-', '+').replaceAll('_', '/');
  const binary = atob(normal.padEnd(Math.ceil(normal.length / 4) * 4, '='));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(2)} MiB`;
}

function formatRate(bytesPerSecond) {
  const bits = bytesPerSecond * 8;
  if (bits < 1000) return `${bits.toFixed(0)} bit/s`;
  if (bits < 1e6) return `${(bits / 1e3).toFixed(1)} kbit/s`;
  return `${(bits / 1e6).toFixed(2)} Mbit/s`;
}

main();
