using System.Collections.Concurrent;
using System.Text.Json;

namespace Switchyard.Processors.Accounting;

/// <summary>Messages and payload bytes per track, counted once per accepted message.</summary>
internal sealed class TrackStatistics
{
    private readonly ConcurrentDictionary<string, Counter> _tracks = new(StringComparer.Ordinal);

    /// <summary>Counts one message of <paramref name="bytes"/> payload bytes on <paramref name="trackId"/>.</summary>
    public void Add(string trackId, long bytes)
    {
        var counter = _tracks.GetOrAdd(trackId, static _ => new Counter());
        counter.Add(bytes);
    }

    /// <summary>The counts of one track, or zeros when it has none.</summary>
    public (long Messages, long Bytes) Get(string trackId) =>
        _tracks.TryGetValue(trackId, out var counter) ? counter.Read() : (0, 0);

    /// <summary>Writes <c>{"tracks": {"&lt;track_id&gt;": {"messages": N, "bytes": B}}}</c>, tracks in ordinal order.</summary>
    public void WriteJson(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteStartObject("tracks");
        foreach (var (trackId, counter) in _tracks.OrderBy(pair => pair.Key, StringComparer.Ordinal))
        {
            // Read both numbers under the counter's lock so that a reader never sees a message without its bytes.
            var (messages, bytes) = counter.Read();
            writer.WriteStartObject(trackId);
            writer.WriteNumber("messages", messages);
            writer.WriteNumber("bytes", bytes);
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private sealed class Counter
    {
        private readonly Lock _gate = new();
        private long _messages;
        private long _bytes;

        public void Add(long bytes)
        {
            lock (_gate)
            {
                _messages++;
                _bytes += bytes;
            }
        }

        public (long Messages, long Bytes) Read()
        {
            lock (_gate)
            {
                return (_messages, _bytes);
            }
        }
    }
}
