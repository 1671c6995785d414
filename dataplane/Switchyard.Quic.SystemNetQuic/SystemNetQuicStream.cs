using System.Runtime.Versioning;
using Switchyard.Transport;
using Net = System.Net.Quic;
using QuicAbortDirection = Switchyard.Transport.QuicAbortDirection;
using QuicStreamType = Switchyard.Transport.QuicStreamType;

namespace Switchyard.Quic.SystemNetQuic;

/// <summary><see cref="IQuicStream"/> over <c>System.Net.Quic.QuicStream</c>. Untested here (no libmsquic).</summary>
[SupportedOSPlatform("linux")]
[SupportedOSPlatform("windows")]
[SupportedOSPlatform("macos")]
internal sealed class SystemNetQuicStream(Net.QuicStream stream) : IQuicStream
{
    public long Id => stream.Id;

    public QuicStreamType Type => stream.Type == Net.QuicStreamType.Bidirectional ? QuicStreamType.Bidirectional : QuicStreamType.Unidirectional;

    public bool CanRead => stream.CanRead;

    public bool CanWrite => stream.CanWrite;

    public Task ReadsClosed => stream.ReadsClosed;

    public Task WritesClosed => stream.WritesClosed;

    public async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try
        {
            return await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (Net.QuicException error)
        {
            throw QuicErrors.Map(error);
        }
    }

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, bool completeWrites, CancellationToken cancellationToken = default)
    {
        try
        {
            await stream.WriteAsync(buffer, completeWrites, cancellationToken).ConfigureAwait(false);
        }
        catch (Net.QuicException error)
        {
            throw QuicErrors.Map(error);
        }
    }

    public void CompleteWrites() => stream.CompleteWrites();

    public void Abort(QuicAbortDirection direction, long errorCode)
    {
        var mapped = (direction.HasFlag(QuicAbortDirection.Read) ? Net.QuicAbortDirection.Read : 0)
            | (direction.HasFlag(QuicAbortDirection.Write) ? Net.QuicAbortDirection.Write : 0);
        stream.Abort(mapped, errorCode);
    }

    public ValueTask DisposeAsync() => stream.DisposeAsync();
}
