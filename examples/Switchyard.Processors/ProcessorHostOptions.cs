namespace Switchyard.Processors;

/// <summary>Limits and hooks of a <see cref="ProcessorHost"/>.</summary>
public sealed class ProcessorHostOptions
{
    /// <summary>The largest message payload accepted; a larger body is answered 413 and not counted. Default 16 MiB.</summary>
    public int MaxPayloadBytes { get; init; } = 16 * 1024 * 1024;

    /// <summary>
    /// Streams whose delivered sequence numbers are remembered for de-duplication. Beyond it the least recently used
    /// half is forgotten, so memory stays bounded. Default 65,536.
    /// </summary>
    public int MaxTrackedStreams { get; init; } = 65_536;

    /// <summary>
    /// Called once for every message answered 200, duplicates included, for example to print a line per message. It
    /// runs on the request's thread and must be quick; an exception from it is ignored.
    /// </summary>
    public Action<ProcessedMessage>? OnMessage { get; init; }
}

/// <summary>One message a processor answered 200.</summary>
/// <param name="Kind">The processor that took it.</param>
/// <param name="TrackId">Its <c>X-Track-Id</c>.</param>
/// <param name="TrackType">Its <c>X-Track-Type</c>, empty when the request had none.</param>
/// <param name="Bytes">Payload bytes.</param>
/// <param name="Duplicate">True when it repeated an already counted (session, stream, sequence), so it was not counted.</param>
/// <param name="Summary">What the processing found, in a few words (frame size, audio level, chat line).</param>
public readonly record struct ProcessedMessage(ProcessorKind Kind, string TrackId, string TrackType, int Bytes, bool Duplicate, string Summary);
