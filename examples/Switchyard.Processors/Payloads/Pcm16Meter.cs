using System.Buffers.Binary;

namespace Switchyard.Processors.Payloads;

/// <summary>The level of one chunk of 16-bit PCM.</summary>
/// <param name="Samples">Whole samples in the chunk (a trailing odd byte is ignored).</param>
/// <param name="Rms">Root-mean-square amplitude, 0 (silence) to 1 (full scale).</param>
/// <param name="Peak">Largest absolute sample, 0 to 1.</param>
internal readonly record struct AudioLevel(int Samples, double Rms, double Peak)
{
    /// <summary>The RMS level in dB relative to full scale, or null for digital silence (where it is minus infinity).</summary>
    public double? Dbfs => Rms > 0 ? 20 * Math.Log10(Rms) : null;
}

/// <summary>Measures 16-bit signed little-endian PCM, the format the live client sends on its audio track.</summary>
internal static class Pcm16Meter
{
    /// <summary>Measures one chunk. Channels are not separated: interleaved stereo gives the level of both together.</summary>
    public static AudioLevel Measure(ReadOnlySpan<byte> data)
    {
        var samples = data.Length / 2;
        if (samples == 0)
        {
            return new AudioLevel(0, 0, 0);
        }

        double sumOfSquares = 0;
        var peak = 0;
        for (var i = 0; i < samples; i++)
        {
            int sample = BinaryPrimitives.ReadInt16LittleEndian(data.Slice(2 * i, 2));
            sumOfSquares += (double)sample * sample;
            peak = Math.Max(peak, Math.Abs(sample));
        }

        // Normalise by 32768 so that -32768 reads as exactly full scale.
        const double FullScale = 32768.0;
        return new AudioLevel(samples, Math.Sqrt(sumOfSquares / samples) / FullScale, peak / FullScale);
    }
}
