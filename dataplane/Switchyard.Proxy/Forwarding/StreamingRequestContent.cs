using System.Buffers;
using System.Net;

namespace Switchyard.Proxy.Forwarding;

/// <summary>
/// Streams the client's request body to the backend as it arrives, one pooled buffer at a time, flushing each chunk so
/// that interactive bodies are not held back. It records which side failed so the forwarder can tell a client that
/// went away from a backend that broke.
/// </summary>
internal sealed class StreamingRequestContent(Stream source, CancellationToken clientAborted) : HttpContent
{
    internal const int BufferSize = 64 * 1024;

    private int _started;

    /// <summary>Reading from the client failed.</summary>
    public bool ClientFailed { get; private set; }

    /// <summary>Writing to the backend failed.</summary>
    public bool BackendFailed { get; private set; }

    /// <summary>Bytes copied so far.</summary>
    public long BytesCopied { get; private set; }

    /// <inheritdoc />
    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    /// <inheritdoc />
    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        // The client body cannot be rewound, so it can be sent once only.
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException("The request body was already sent and cannot be sent again.");
        }

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, clientAborted);
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            while (true)
            {
                int read;
                try
                {
                    read = await source.ReadAsync(buffer, linked.Token).ConfigureAwait(false);
                }
                catch
                {
                    ClientFailed = true;
                    throw;
                }

                if (read == 0)
                {
                    return;
                }

                try
                {
                    await stream.WriteAsync(buffer.AsMemory(0, read), linked.Token).ConfigureAwait(false);
                    await stream.FlushAsync(linked.Token).ConfigureAwait(false);
                }
                catch
                {
                    BackendFailed = true;
                    throw;
                }

                BytesCopied += read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <inheritdoc />
    protected override bool TryComputeLength(out long length)
    {
        // A Content-Length copied from the client is set on Headers explicitly; otherwise the body is chunked.
        length = -1;
        return false;
    }
}
