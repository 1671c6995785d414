using System.Net;
using System.Runtime.Versioning;
using System.Security.Cryptography.X509Certificates;
using Switchyard.Transport;
using Net = System.Net.Quic;
using QuicException = Switchyard.Transport.QuicException;
using QuicStreamType = Switchyard.Transport.QuicStreamType;

namespace Switchyard.Quic.SystemNetQuic;

/// <summary>
/// <see cref="IQuicConnection"/> over <c>System.Net.Quic.QuicConnection</c>. Untested here (no libmsquic).
/// </summary>
/// <remarks>
/// <c>System.Net.Quic</c> raises no event when the peer closes. <see cref="Closed"/> therefore completes when this side
/// closes or disposes, or when a stream accept or open fails because the connection ended; an application that only
/// waits on <see cref="Closed"/> should also keep an <see cref="AcceptInboundStreamAsync"/> pending, as HTTP/3 does.
/// </remarks>
[SupportedOSPlatform("linux")]
[SupportedOSPlatform("windows")]
[SupportedOSPlatform("macos")]
internal sealed class SystemNetQuicConnection(Net.QuicConnection connection) : IQuicConnection
{
    internal const string NoDatagrams = "System.Net.Quic has no QUIC DATAGRAM frames (RFC 9221): use the managed transport for datagrams (IQuicTransport.SupportsDatagrams is false here).";

    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _disposed;

    public IPEndPoint RemoteEndPoint => connection.RemoteEndPoint;

    public IPEndPoint LocalEndPoint => connection.LocalEndPoint;

    public string NegotiatedApplicationProtocol => connection.NegotiatedApplicationProtocol.ToString();

    public string? TargetHostName => connection.TargetHostName;

    public X509Certificate2? RemoteCertificate => connection.RemoteCertificate as X509Certificate2;

    /// <summary>Always 0: there are no datagrams on this transport.</summary>
    public int MaxDatagramPayloadSize => 0;

    public Task Closed => _closed.Task;

    public async ValueTask<IQuicStream> OpenOutboundStreamAsync(QuicStreamType type, CancellationToken cancellationToken = default)
    {
        try
        {
            var stream = await connection.OpenOutboundStreamAsync(type == QuicStreamType.Bidirectional ? Net.QuicStreamType.Bidirectional : Net.QuicStreamType.Unidirectional, cancellationToken).ConfigureAwait(false);
            return new SystemNetQuicStream(stream);
        }
        catch (Net.QuicException error)
        {
            throw Ended(error);
        }
    }

    public async ValueTask<IQuicStream> AcceptInboundStreamAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            return new SystemNetQuicStream(await connection.AcceptInboundStreamAsync(cancellationToken).ConfigureAwait(false));
        }
        catch (Net.QuicException error)
        {
            throw Ended(error);
        }
    }

    /// <exception cref="NotSupportedException">Always: <c>System.Net.Quic</c> has no datagrams.</exception>
    public bool TrySendDatagram(ReadOnlySpan<byte> payload) => throw new NotSupportedException(NoDatagrams);

    /// <exception cref="NotSupportedException">Always: <c>System.Net.Quic</c> has no datagrams.</exception>
    public ValueTask<ReadOnlyMemory<byte>> ReceiveDatagramAsync(CancellationToken cancellationToken = default) =>
        ValueTask.FromException<ReadOnlyMemory<byte>>(new NotSupportedException(NoDatagrams));

    public async ValueTask CloseAsync(long applicationErrorCode, CancellationToken cancellationToken = default)
    {
        try
        {
            await connection.CloseAsync(applicationErrorCode, cancellationToken).ConfigureAwait(false);
        }
        catch (Net.QuicException error)
        {
            throw QuicErrors.Map(error);
        }
        finally
        {
            _closed.TrySetResult();
        }
    }

    /// <summary>All zeros: <c>System.Net.Quic</c> publishes no per-connection statistics.</summary>
    public QuicConnectionStatistics GetStatistics() => default;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await connection.DisposeAsync().ConfigureAwait(false);
        _closed.TrySetResult();
    }

    private QuicException Ended(Net.QuicException error)
    {
        if (error.QuicError is Net.QuicError.ConnectionAborted or Net.QuicError.ConnectionIdle or Net.QuicError.ConnectionTimeout
            or Net.QuicError.OperationAborted or Net.QuicError.TransportError)
        {
            _closed.TrySetResult();
        }

        return QuicErrors.Map(error);
    }
}
