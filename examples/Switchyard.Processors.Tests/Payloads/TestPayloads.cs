using System.Text;

namespace Switchyard.Processors.Tests.Payloads;

/// <summary>Payloads shaped like the live client's.</summary>
internal static class TestPayloads
{
    /// <summary>
    /// A structurally valid JPEG: SOI, APP0 (JFIF), DQT, a SOFn frame header, SOS, some entropy-coded bytes
    /// (including a stuffed FF 00), EOI.
    /// </summary>
    public static byte[] Jpeg(int width, int height, byte sof = 0xC0, bool withEoi = true)
    {
        var bytes = new List<byte> { 0xFF, 0xD8 };
        bytes.AddRange([0xFF, 0xE0, 0x00, 0x10, (byte)'J', (byte)'F', (byte)'I', (byte)'F', 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00]);
        bytes.AddRange([0xFF, 0xDB, 0x00, 0x43, 0x00]);
        bytes.AddRange(Enumerable.Repeat((byte)1, 64));

        // A fill byte before the marker is legal (T.81 B.1.1.2) and must not confuse the walk.
        bytes.AddRange([0xFF, 0xFF, sof, 0x00, 0x11, 0x08, (byte)(height >> 8), (byte)height, (byte)(width >> 8), (byte)width, 0x03,
            0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01]);
        bytes.AddRange([0xFF, 0xDA, 0x00, 0x0C, 0x03, 0x01, 0x00, 0x02, 0x11, 0x03, 0x11, 0x00, 0x3F, 0x00]);
        bytes.AddRange([0x12, 0x34, 0xFF, 0x00, 0x56, 0xC0, 0x00, 0x11]);
        if (withEoi)
        {
            bytes.AddRange([0xFF, 0xD9]);
        }

        return [.. bytes];
    }

    /// <summary>A square wave of <paramref name="amplitude"/> (0..32767), 16-bit little-endian: its RMS equals its amplitude.</summary>
    public static byte[] SquareWave(int samples, short amplitude)
    {
        var bytes = new byte[samples * 2];
        for (var i = 0; i < samples; i++)
        {
            var value = (short)(i % 2 == 0 ? amplitude : -amplitude);
            bytes[2 * i] = (byte)value;
            bytes[(2 * i) + 1] = (byte)(value >> 8);
        }

        return bytes;
    }

    /// <summary>The seed's chat object.</summary>
    public static byte[] Chat(string id, string user, string text) =>
        Encoding.UTF8.GetBytes(System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["message_id"] = id,
            ["timestamp"] = 1_700_000_000_000L,
            ["user"] = user,
            ["message"] = text,
            ["type"] = "chat",
        }));
}
