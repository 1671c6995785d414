using System.Buffers;
using System.Globalization;
using Switchyard.Http3.Frames;
using Switchyard.Http3.Qpack;
using Switchyard.Transport;

namespace Switchyard.Http3.Connection;

/// <summary>
/// Reads the frames of one request or response after its header section (RFC 9114 §4.1): DATA payloads as the body,
/// then optional trailers, then FIN. Unknown frames are skipped; frames that may not appear are connection errors.
/// </summary>
internal sealed class Http3MessageBody
{
    private readonly Http3Connection _connection;
    private readonly Http3StreamReader _reader;
    private readonly long? _contentLength;
    private long _remainingInFrame;
    private long _bodyRead;
    private bool _ended;

    public Http3MessageBody(Http3Connection connection, Http3StreamReader reader, long? contentLength)
    {
        _connection = connection;
        _reader = reader;
        _contentLength = contentLength;
    }

    public IReadOnlyList<HeaderField>? Trailers { get; private set; }

    public bool IsCompleted => _ended;

    public long BytesRead => _bodyRead;

    /// <summary>Reads body bytes; 0 once FIN has been read (trailers, if any, are then in <see cref="Trailers"/>).</summary>
    public async ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_ended)
            {
                return 0;
            }

            if (_remainingInFrame > 0)
            {
                if (destination.IsEmpty)
                {
                    return 0;
                }

                int want = (int)Math.Min(destination.Length, _remainingInFrame);
                int n = await _reader.ReadAsync(destination[..want], cancellationToken).ConfigureAwait(false);
                if (n == 0)
                {
                    throw new Http3ConnectionException(Http3ErrorCode.FrameError, "The stream ends inside a DATA frame (RFC 9114 §7.1).");
                }

                _remainingInFrame -= n;
                _bodyRead += n;
                if (_contentLength is long expected && _bodyRead > expected)
                {
                    throw new Http3StreamException(Http3ErrorCode.MessageError, $"The body exceeds content-length {expected} (RFC 9114 §4.1.2).");
                }

                return n;
            }

            long? type = await _reader.ReadVarintAsync(cancellationToken).ConfigureAwait(false);
            if (type is null)
            {
                _ended = true;
                if (_contentLength is long expected && _bodyRead != expected)
                {
                    throw new Http3StreamException(Http3ErrorCode.MessageError, $"The body has {_bodyRead} bytes but content-length says {expected} (RFC 9114 §4.1.2).");
                }

                return 0;
            }

            long length = await _reader.ReadVarintAsync(cancellationToken).ConfigureAwait(false)
                ?? throw new Http3ConnectionException(Http3ErrorCode.FrameError, "The stream ends inside a frame header (RFC 9114 §7.1).");

            switch (type.Value)
            {
                case (long)Http3FrameType.Data when Trailers is null:
                    _remainingInFrame = length;
                    break;
                case (long)Http3FrameType.Headers when Trailers is null:
                    ReadOnlyMemory<byte> section = await ReadPayloadAsync(_reader, length, _connection.Options.MaxFieldSectionSize, cancellationToken).ConfigureAwait(false);
                    List<HeaderField> trailers = await DecodeAsync(_connection, _reader.Stream.Id, section, cancellationToken).ConfigureAwait(false);
                    Http3FieldValidation.ValidateTrailers(trailers);
                    Trailers = trailers;
                    break;
                default:
                    Http3FieldValidation.ThrowIfUnexpectedOnRequestStream(type.Value, _connection.IsServer, afterTrailers: Trailers is not null);
                    if (!await _reader.SkipAsync(length, cancellationToken).ConfigureAwait(false))
                    {
                        throw new Http3ConnectionException(Http3ErrorCode.FrameError, "The stream ends inside a frame (RFC 9114 §7.1).");
                    }

                    break;
            }
        }
    }

    /// <summary>Reads a whole frame payload of <paramref name="length"/> bytes, at most <paramref name="limit"/>.</summary>
    internal static async ValueTask<ReadOnlyMemory<byte>> ReadPayloadAsync(Http3StreamReader reader, long length, int limit, CancellationToken cancellationToken)
    {
        // The encoded section is never larger than the decoded one plus a few bytes per line; the slack keeps the bound honest.
        if (length > limit + 1024L)
        {
            throw new Http3StreamException(Http3ErrorCode.ExcessiveLoad, $"A HEADERS frame of {length} bytes exceeds SETTINGS_MAX_FIELD_SECTION_SIZE {limit} (RFC 9114 §4.2.2, §10.5).");
        }

        if (!await reader.EnsureAsync((int)length, cancellationToken).ConfigureAwait(false))
        {
            throw new Http3ConnectionException(Http3ErrorCode.FrameError, "The stream ends inside a HEADERS frame (RFC 9114 §7.1).");
        }

        byte[] copy = reader.Buffered[..(int)length].ToArray();
        reader.Consume((int)length);
        return copy;
    }

    /// <summary>Decodes a field section, mapping an oversized one to a stream error.</summary>
    internal static async ValueTask<List<HeaderField>> DecodeAsync(Http3Connection connection, long streamId, ReadOnlyMemory<byte> section, CancellationToken cancellationToken)
    {
        try
        {
            return await connection.DecodeFieldSectionAsync(streamId, section, cancellationToken).ConfigureAwait(false);
        }
        catch (QpackFieldSectionTooLargeException)
        {
            throw new Http3FieldSectionTooLargeException();
        }
    }

    /// <summary>Parses a content-length value (RFC 9110 §8.6); null when absent.</summary>
    internal static long? ParseContentLength(IReadOnlyList<HeaderField> fields)
    {
        long? result = null;
        foreach (HeaderField field in fields)
        {
            if (field.Name == "content-length")
            {
                if (!long.TryParse(field.Value, NumberStyles.None, CultureInfo.InvariantCulture, out long value) || (result.HasValue && result != value))
                {
                    throw new Http3StreamException(Http3ErrorCode.MessageError, $"Invalid content-length '{field.Value}' (RFC 9114 §4.1.2, RFC 9110 §8.6).");
                }

                result = value;
            }
        }

        return result;
    }
}

/// <summary>A decoded field section exceeds SETTINGS_MAX_FIELD_SECTION_SIZE (RFC 9114 §4.2.2): a server answers 431.</summary>
internal sealed class Http3FieldSectionTooLargeException : Exception
{
    public Http3FieldSectionTooLargeException()
        : base("The field section exceeds SETTINGS_MAX_FIELD_SECTION_SIZE (RFC 9114 §4.2.2).")
    {
    }

    public Http3FieldSectionTooLargeException(string message)
        : base(message)
    {
    }

    public Http3FieldSectionTooLargeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>Writes the frames of one request or response: HEADERS, DATA, trailing HEADERS, FIN (RFC 9114 §4.1).</summary>
internal sealed class Http3MessageWriter
{
    private const int CoalesceLimit = 16 * 1024;
    private readonly IQuicStream _stream;

    public Http3MessageWriter(IQuicStream stream)
    {
        _stream = stream;
    }

    public bool Completed { get; private set; }

    public async ValueTask WriteHeadersAsync(IEnumerable<HeaderField> fields, bool endStream, CancellationToken cancellationToken)
    {
        var section = new ArrayBufferWriter<byte>();
        QpackEncoder.EncodeFieldSection(section, fields);
        var frame = new ArrayBufferWriter<byte>(section.WrittenCount + 16);
        Http3FrameWriter.WriteFrame(frame, (long)Http3FrameType.Headers, section.WrittenSpan);
        Completed |= endStream;
        await _stream.WriteAsync(frame.WrittenMemory, endStream, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask WriteDataAsync(ReadOnlyMemory<byte> data, bool endStream, CancellationToken cancellationToken)
    {
        if (data.IsEmpty)
        {
            if (endStream)
            {
                Completed = true;
                await _stream.WriteAsync(ReadOnlyMemory<byte>.Empty, true, cancellationToken).ConfigureAwait(false);
            }

            return;
        }

        Completed |= endStream;
        if (data.Length <= CoalesceLimit)
        {
            byte[] frame = ArrayPool<byte>.Shared.Rent(data.Length + 16);
            try
            {
                int n = Http3FrameWriter.WriteFrameHeader(frame, (long)Http3FrameType.Data, data.Length);
                data.Span.CopyTo(frame.AsSpan(n));
                await _stream.WriteAsync(frame.AsMemory(0, n + data.Length), endStream, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(frame);
            }

            return;
        }

        byte[] header = new byte[16];
        int headerLength = Http3FrameWriter.WriteFrameHeader(header, (long)Http3FrameType.Data, data.Length);
        await _stream.WriteAsync(header.AsMemory(0, headerLength), false, cancellationToken).ConfigureAwait(false);
        await _stream.WriteAsync(data, endStream, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask CompleteAsync(IReadOnlyList<HeaderField>? trailers, CancellationToken cancellationToken)
    {
        if (Completed)
        {
            return;
        }

        if (trailers is { Count: > 0 })
        {
            await WriteHeadersAsync(trailers, true, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            Completed = true;
            await _stream.WriteAsync(ReadOnlyMemory<byte>.Empty, true, cancellationToken).ConfigureAwait(false);
        }
    }
}
