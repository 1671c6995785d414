using System.Collections.Concurrent;
using Switchyard.Http3.Connection;
using Switchyard.Transport;

namespace Switchyard.Http3.Server;

/// <summary>
/// Serves HTTP/3 on a QUIC listener: one <see cref="Http3ServerConnection"/> per accepted connection. Stopping sends
/// GOAWAY on every connection and gives in-flight requests a grace period (RFC 9114 §5.2).
/// </summary>
public sealed class Http3Server
{
    private readonly IQuicListener _listener;
    private readonly Http3ConnectionOptions _options;
    private readonly Http3RequestHandler _handler;
    private readonly ConcurrentDictionary<Http3ServerConnection, Task> _connections = new();

    /// <summary>Creates the server; <see cref="RunAsync"/> starts accepting.</summary>
    public Http3Server(IQuicListener listener, Http3ConnectionOptions options, Http3RequestHandler handler)
    {
        ArgumentNullException.ThrowIfNull(listener);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(handler);
        _listener = listener;
        _options = options;
        _handler = handler;
    }

    /// <summary>Connections being served right now.</summary>
    public int ConnectionCount => _connections.Count;

    /// <summary>
    /// Accepts and serves connections until <paramref name="cancellationToken"/> fires or the listener is disposed, then
    /// shuts every connection down gracefully within <paramref name="shutdownTimeout"/> (default 5 s).
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken, TimeSpan? shutdownTimeout = null)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            IQuicConnection quic;
            try
            {
                quic = await _listener.AcceptConnectionAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or QuicException)
            {
                break;
            }

            var connection = new Http3ServerConnection(quic, _options, _handler);
            Task run = ServeAsync(connection);
            _connections.TryAdd(connection, run);
        }

        TimeSpan grace = shutdownTimeout ?? TimeSpan.FromSeconds(5);
        await Task.WhenAll(_connections.Keys.Select(c => c.ShutdownAsync(grace))).ConfigureAwait(false);
        await Task.WhenAll(_connections.Values).ConfigureAwait(false);
    }

    private async Task ServeAsync(Http3ServerConnection connection)
    {
        try
        {
            await connection.RunAsync().ConfigureAwait(false);
        }
        finally
        {
            await connection.Quic.DisposeAsync().ConfigureAwait(false);
            _connections.TryRemove(connection, out _);
        }
    }
}
