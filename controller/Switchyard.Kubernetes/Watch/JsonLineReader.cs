using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Switchyard.Kubernetes.Watch;

/// <summary>
/// Splits a watch response body into JSON objects, one per line (the API server writes each event as one JSON
/// document followed by a newline, with chunked transfer coding, RFC 9112 §7.1).
/// </summary>
internal static class JsonLineReader
{
    /// <summary>Longest event accepted; a longer line ends the watch instead of growing memory without bound.</summary>
    public const int MaxLineBytes = 16 * 1024 * 1024;

    public static async IAsyncEnumerable<JsonObject> ReadAsync(Stream stream, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 16 * 1024));
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                var buffer = result.Buffer;
                var lines = new List<JsonObject>();
                while (TryReadLine(ref buffer, out var line))
                {
                    if (Parse(line) is { } obj)
                    {
                        lines.Add(obj);
                    }
                }

                if (buffer.Length > MaxLineBytes)
                {
                    throw new InvalidDataException($"watch event longer than {MaxLineBytes} bytes");
                }

                if (result.IsCompleted && buffer.Length > 0 && Parse(buffer) is { } last)
                {
                    lines.Add(last);
                    buffer = buffer.Slice(buffer.End);
                }

                reader.AdvanceTo(buffer.Start, buffer.End);
                foreach (var obj in lines)
                {
                    yield return obj;
                }

                if (result.IsCompleted || result.IsCanceled)
                {
                    yield break;
                }
            }
        }
        finally
        {
            await reader.CompleteAsync().ConfigureAwait(false);
        }
    }

    private static bool TryReadLine(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> line)
    {
        var position = buffer.PositionOf((byte)'\n');
        if (position is null)
        {
            line = default;
            return false;
        }

        line = buffer.Slice(0, position.Value);
        buffer = buffer.Slice(buffer.GetPosition(1, position.Value));
        return true;
    }

    private static JsonObject? Parse(ReadOnlySequence<byte> line)
    {
        // Blank lines (keep-alives) carry nothing.
        var blank = true;
        foreach (var segment in line)
        {
            if (segment.Span.IndexOfAnyExcept(" \t\r"u8) >= 0)
            {
                blank = false;
                break;
            }
        }

        if (blank)
        {
            return null;
        }

        try
        {
            var reader = new Utf8JsonReader(line);
            return JsonNode.Parse(ref reader) as JsonObject ?? throw new InvalidDataException("watch event is not a JSON object");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"watch event is not valid JSON (RFC 8259): {ex.Message}", ex);
        }
    }
}
