using System.Text;
using System.Text.Json;

namespace Switchyard.Tracks.Tests.Framing;

/// <summary>Messages shaped like the seed project's clients send them.</summary>
internal static class SeedMessages
{
    /// <summary>A JPEG-shaped payload: SOI marker, random body, EOI marker.</summary>
    public static byte[] Jpeg(Random random, int size)
    {
        var bytes = new byte[size];
        random.NextBytes(bytes);
        bytes[0] = 0xFF;
        bytes[1] = 0xD8;
        bytes[^2] = 0xFF;
        bytes[^1] = 0xD9;
        return bytes;
    }

    /// <summary>16-bit little-endian PCM of a 440 Hz tone at 44.1 kHz.</summary>
    public static byte[] Pcm16(int samples, int offset = 0)
    {
        var bytes = new byte[samples * 2];
        for (var i = 0; i < samples; i++)
        {
            var value = (short)(Math.Sin(2 * Math.PI * 440 * (i + offset) / 44100.0) * short.MaxValue * 0.5);
            bytes[2 * i] = (byte)value;
            bytes[(2 * i) + 1] = (byte)(value >> 8);
        }

        return bytes;
    }

    /// <summary>The seed's chat object.</summary>
    public static byte[] Chat(int id, string user, string text) =>
        Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["message_id"] = $"msg-{id}",
            ["timestamp"] = 1_700_000_000_000L + id,
            ["user"] = user,
            ["message"] = text,
            ["type"] = "chat",
        }));
}
