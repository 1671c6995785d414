// Runs on the audio rendering thread. The render quantum is 128 frames, far too small to be worth
// a message each, so samples are collected into chunks (4096 by default, about 93 ms at 44.1 kHz)
// and each chunk is posted to the page as 16-bit little-endian PCM, mono.

// Kept in step with floatToPcm16 in app.js (the ScriptProcessor fallback); a worklet module cannot import it.
function floatToPcm16(samples, count) {
  const out = new ArrayBuffer(count * 2);
  const view = new DataView(out);
  for (let i = 0; i < count; i++) {
    // Clamp: float audio may overshoot [-1, 1], and Int16 must not wrap around.
    const s = Math.max(-1, Math.min(1, samples[i]));
    view.setInt16(2 * i, s < 0 ? s * 0x8000 : s * 0x7fff, true /* little-endian, whatever the CPU */);
  }
  return out;
}

class PcmChunker extends AudioWorkletProcessor {
  constructor(options) {
    super();
    this.size = options?.processorOptions?.chunkSamples ?? 4096;
    this.buffer = new Float32Array(this.size);
    this.filled = 0;
  }

  process(inputs) {
    const channels = inputs[0];
    // No input connected yet (or the track ended): nothing to record, but stay alive.
    if (channels && channels.length > 0) {
      const frames = channels[0].length;
      for (let i = 0; i < frames; i++) {
        // Down-mix to mono: the processors measure one level per chunk.
        let sum = 0;
        for (let c = 0; c < channels.length; c++) sum += channels[c][i];
        this.buffer[this.filled++] = sum / channels.length;
        if (this.filled === this.size) {
          const chunk = floatToPcm16(this.buffer, this.size);
          // Transfer, not copy: the page owns the chunk from here.
          this.port.postMessage(chunk, [chunk]);
          this.filled = 0;
        }
      }
    }
    return true;
  }
}

registerProcessor('pcm-chunker', PcmChunker);
