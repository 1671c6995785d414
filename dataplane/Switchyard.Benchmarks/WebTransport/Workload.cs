using System.Buffers.Binary;
using System.Diagnostics;

namespace Switchyard.Benchmarks.WebTransport;

/// <summary>One track of a simulated client: its type, how often it sends and how large its payloads are.</summary>
internal sealed record TrackProfile(string TrackType, string BackendPath, double MessagesPerSecond, int MinPayload, int MaxPayload)
{
    public double MeanPayload => (MinPayload + MaxPayload) / 2.0;
}

/// <summary>
/// The seed project's client workload and its published figures. Each simulated client sends every track on its own
/// unidirectional stream, each message a 32-byte track header plus a payload whose first 16 bytes are a stamp.
/// </summary>
internal static class Workload
{
    /// <summary>The stamp at the front of every payload: send time, phase and client.</summary>
    public const int StampSize = 16;

    /// <summary>Video 15 fps of 2.5–9.6 KB JPEG frames, 10.8 audio messages/s of 16-bit PCM, and a little chat.</summary>
    public static readonly IReadOnlyList<TrackProfile> Tracks =
    [
        new("video", "/process_video", 15, 2_500, 9_600),
        new("audio", "/process_audio", 10.8, 160, 320),
        new("chat", "/process_chat", 2, 20, 200),
    ];

    /// <summary>The seed's published figures: 5 clients, 1.58 Mbps, 0.63 core, 169 MiB; processing 0.02–0.04 ms.</summary>
    public static class Seed
    {
        public const int Clients = 5;
        public const double Megabits = 1.58;
        public const double Cores = 0.63;
        public const double RssMib = 169;
        public const double ProcessingMsLow = 0.02;
        public const double ProcessingMsHigh = 0.04;

        public const double CoresPerClient = Cores / Clients;
        public const double MibPerClient = RssMib / Clients;
    }

    /// <summary>Payload bits per second one client offers (headers excluded).</summary>
    public static double OfferedMegabitsPerClient => Tracks.Sum(t => t.MessagesPerSecond * t.MeanPayload) * 8 / 1e6;

    public static double OfferedMessagesPerClient => Tracks.Sum(t => t.MessagesPerSecond);

    /// <summary>Fills a payload: the stamp (Stopwatch timestamp, phase, client) then a client-specific filler byte.</summary>
    public static void Stamp(Span<byte> payload, int phase, int client)
    {
        payload[StampSize..].Fill((byte)client);
        BinaryPrimitives.WriteInt32LittleEndian(payload[8..], phase);
        BinaryPrimitives.WriteInt32LittleEndian(payload[12..], client);
        BinaryPrimitives.WriteInt64LittleEndian(payload, Stopwatch.GetTimestamp());
    }

    /// <summary>Reads a stamp; false when the payload is too short to hold one.</summary>
    public static bool TryReadStamp(ReadOnlySpan<byte> payload, out long timestamp, out int phase)
    {
        if (payload.Length < StampSize)
        {
            timestamp = 0;
            phase = 0;
            return false;
        }

        timestamp = BinaryPrimitives.ReadInt64LittleEndian(payload);
        phase = BinaryPrimitives.ReadInt32LittleEndian(payload[8..]);
        return true;
    }
}
