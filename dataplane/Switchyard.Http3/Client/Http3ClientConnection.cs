using Switchyard.Http3.Connection;
using Switchyard.Transport;

namespace Switchyard.Http3.Client;

/// <summary>
/// The client side of one HTTP/3 connection (RFC 9114): opens the control stream with SETTINGS, sends requests
/// (including extended CONNECT, RFC 9220) and reads responses. Server push is never enabled: no MAX_PUSH_ID is sent.
/// </summary>
public sealed class Http3ClientConnection : Http3Connection
{
    private Http3ClientConnection(IQuicConnection quic, Http3ConnectionOptions options)
        : base(quic, options, isServer: false)
    {
    }

    /// <summary>Starts HTTP/3 on an established QUIC connection. It does not wait for the server's SETTINGS.</summary>
    public static async Task<Http3ClientConnection> ConnectAsync(IQuicConnection quic, Http3ConnectionOptions? options = null, CancellationToken cancellationToken = default)
    {
        var connection = new Http3ClientConnection(quic, options ?? new Http3ConnectionOptions());
        await connection.StartAsync(cancellationToken).ConfigureAwait(false);
        return connection;
    }

    /// <summary>
    /// Opens a request stream and sends the header section. With <paramref name="endStream"/> the request has no body.
    /// </summary>
    /// <exception cref="InvalidOperationException">The server sent GOAWAY, or an extended CONNECT was asked for and the server did not enable it (RFC 9220 §3).</exception>
    public async ValueTask<Http3ClientStream> SendRequestHeadersAsync(Http3RequestHead request, bool endStream = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (PeerGoAwayId is not null)
        {
            throw new InvalidOperationException("The server sent GOAWAY: no new requests on this connection (RFC 9114 §5.2).");
        }

        if (request.Protocol is not null)
        {
            // RFC 9220 §3: a client waits for SETTINGS_ENABLE_CONNECT_PROTOCOL before using :protocol.
            var settings = await PeerSettings.WaitAsync(cancellationToken).ConfigureAwait(false);
            if (!settings.EnableConnectProtocol)
            {
                throw new InvalidOperationException("The server did not send SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 (RFC 9220 §3).");
            }
        }

        IQuicStream stream = await Quic.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, cancellationToken).ConfigureAwait(false);
        var clientStream = new Http3ClientStream(this, stream);
        try
        {
            await clientStream.SendHeadersAsync(request.ToFieldSection(), endStream, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await clientStream.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return clientStream;
    }

    /// <summary>Sends a whole request and reads the whole response into memory (up to <paramref name="maxResponseBytes"/>).</summary>
    public async Task<Http3ResponseMessage> SendAsync(Http3RequestHead request, ReadOnlyMemory<byte> body = default, int maxResponseBytes = 64 << 20, CancellationToken cancellationToken = default)
    {
        await using Http3ClientStream stream = await SendRequestHeadersAsync(request, body.IsEmpty, cancellationToken).ConfigureAwait(false);
        if (!body.IsEmpty)
        {
            await stream.WriteAsync(body, cancellationToken).ConfigureAwait(false);
            await stream.CompleteAsync(null, cancellationToken).ConfigureAwait(false);
        }

        Http3ResponseHead head = await stream.ReadResponseAsync(cancellationToken).ConfigureAwait(false);
        using var memory = new MemoryStream();
        byte[] buffer = new byte[32 * 1024];
        while (true)
        {
            int n = await stream.ReadBodyAsync(buffer, cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                break;
            }

            if (memory.Length + n > maxResponseBytes)
            {
                stream.Abort((long)Http3ErrorCode.RequestCancelled);
                throw new InvalidOperationException($"The response body exceeds {maxResponseBytes} bytes.");
            }

            memory.Write(buffer, 0, n);
        }

        return new Http3ResponseMessage(head, memory.ToArray(), stream.Trailers);
    }

    private protected override async Task HandleBidirectionalStreamAsync(IQuicStream stream)
    {
        // §6.1: a server-initiated bidirectional stream is an error unless an extension claims it.
        var reader = new Http3StreamReader(stream);
        try
        {
            await GuardAsync(async () =>
            {
                long? signal = await reader.ReadVarintAsync(ConnectionClosing).ConfigureAwait(false);
                if (signal is not null && !Http3FieldValidation.IsHttp3FrameType(signal.Value) && OfferBidirectionalToExtensions(signal.Value, reader))
                {
                    return;
                }

                throw new Http3ConnectionException(Http3ErrorCode.StreamCreationError, "The server opened a bidirectional stream (RFC 9114 §6.1).");
            }).ConfigureAwait(false);
        }
        finally
        {
            reader.Dispose();
        }
    }
}
