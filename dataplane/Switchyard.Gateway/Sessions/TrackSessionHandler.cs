using System.IO.Pipelines;
using Microsoft.Extensions.Logging;
using Switchyard.Delivery;
using Switchyard.Gateway.Metrics;
using Switchyard.Tracks.Routing;
using Switchyard.Transport;
using Switchyard.WebTransport.Server;
using Switchyard.WebTransport.Sessions;

namespace Switchyard.Gateway.Sessions;

/// <summary>
/// Where WebTransport meets track routing: decides whether a session is accepted (a WebTransportRoute must take its
/// host and path), then runs every stream the browser opens through the <see cref="TrackStreamPump"/>, and hands every
/// datagram it sends to the <see cref="TrackDatagramDispatcher"/> (best effort: a bad or unroutable datagram is counted
/// and dropped, and the session goes on).
/// </summary>
public sealed partial class TrackSessionHandler
{
    private readonly TrackRouter _router;
    private readonly TrackStreamPump _pump;
    private readonly GatewayMetrics _metrics;
    private readonly ILogger _logger;
    private readonly Func<string?, bool> _originAllowed;
    private readonly TrackDatagramDispatcher? _datagrams;

    /// <summary>Creates the handler.</summary>
    /// <param name="router">The router holding the current table.</param>
    /// <param name="pump">The per-stream pipeline.</param>
    /// <param name="metrics">Session and stream gauges.</param>
    /// <param name="logger">Logs session and stream outcomes.</param>
    /// <param name="originAllowed">Which <c>origin</c> headers may open sessions; null allows any.</param>
    /// <param name="datagrams">Delivers the sessions' datagrams; null ignores them.</param>
    public TrackSessionHandler(TrackRouter router, TrackStreamPump pump, GatewayMetrics metrics, ILogger logger, Func<string?, bool>? originAllowed = null, TrackDatagramDispatcher? datagrams = null)
    {
        _datagrams = datagrams;
        _router = router;
        _pump = pump;
        _metrics = metrics;
        _logger = logger;
        _originAllowed = originAllowed ?? (_ => true);
    }

    /// <summary>The accept decision: 404 when no route takes the session, 403 for a refused origin.</summary>
    public ValueTask<WebTransportDecision> AcceptAsync(WebTransportSessionRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!_originAllowed(request.Origin))
        {
            Log.SessionRefused(_logger, request.Authority, request.Path, 403, request.Origin);
            return ValueTask.FromResult(WebTransportDecision.Reject(403));
        }

        if (_router.Current.MatchSession(request.Authority, request.Path) is null)
        {
            Log.SessionRefused(_logger, request.Authority, request.Path, 404, request.Origin);
            return ValueTask.FromResult(WebTransportDecision.Reject(404));
        }

        return ValueTask.FromResult(WebTransportDecision.Accept);
    }

    /// <summary>Runs one accepted session until it closes: every incoming stream gets its own pump.</summary>
    public async Task HandleSessionAsync(WebTransportSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        _metrics.SessionChanged(+1);
        Log.SessionOpened(_logger, session.Id, session.Authority, session.Path);
        var sessionId = session.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var closed = new CancellationTokenSource();
        _ = session.Closed.ContinueWith(_ => closed.Cancel(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        var streams = new List<Task>();
        var datagrams = ReceiveDatagramsAsync(session, sessionId, closed.Token);
        try
        {
            while (!session.IsClosed)
            {
                WebTransportStream stream;
                try
                {
                    stream = await session.AcceptStreamAsync(closed.Token).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is OperationCanceledException or WebTransportSessionException or QuicException or ObjectDisposedException)
                {
                    break;
                }

                streams.Add(RunStreamAsync(session, sessionId, stream, closed.Token));
                streams.RemoveAll(t => t.IsCompleted);
            }
        }
        finally
        {
            await Task.WhenAll(streams).ConfigureAwait(false);

            // Whatever ended the accept loop, the datagram loop ends with it.
            await closed.CancelAsync().ConfigureAwait(false);
            await datagrams.ConfigureAwait(false);
            _metrics.SessionChanged(-1);
            Log.SessionClosed(_logger, session.Id);
        }
    }

    private async Task ReceiveDatagramsAsync(WebTransportSession session, string sessionId, CancellationToken sessionClosed)
    {
        if (_datagrams is null)
        {
            return;
        }

        await Task.Yield();
        var dispatch = _datagrams.Open(session.Authority, session.Path, sessionId, session.Id);
        try
        {
            while (!sessionClosed.IsCancellationRequested)
            {
                ReadOnlyMemory<byte> datagram;
                try
                {
                    datagram = await session.ReceiveDatagramAsync(sessionClosed).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is OperationCanceledException or WebTransportSessionException or QuicException or ObjectDisposedException)
                {
                    break;
                }

                if (dispatch.Dispatch(datagram) is { } refused)
                {
                    Log.DatagramDropped(_logger, session.Id, refused);
                }
            }
        }
        finally
        {
            // Deliveries already started finish (each is bounded by its rule's timeout) before the session is reported closed.
            await dispatch.WhenIdleAsync().ConfigureAwait(false);
        }
    }

    private async Task RunStreamAsync(WebTransportSession session, string sessionId, WebTransportStream stream, CancellationToken sessionClosed)
    {
        if (!stream.CanRead)
        {
            return;
        }

        _metrics.StreamChanged(+1);
        var input = PipeReader.Create(new WebTransportReadStream(stream), new StreamPipeReaderOptions(bufferSize: 16 * 1024, minimumReadSize: 4 * 1024, leaveOpen: true));
        try
        {
            var result = await _pump.RunAsync(input, session.Authority, session.Path, sessionId, stream.Id, sessionClosed).ConfigureAwait(false);
            if (result.ErrorCode is { } code)
            {
                // STOP_SENDING tells the browser exactly why; a bidirectional stream's write half is reset too.
                Log.StreamFailed(_logger, session.Id, stream.Id, result.Outcome, code, result.Detail);
                var direction = stream.CanWrite ? QuicAbortDirection.Both : QuicAbortDirection.Read;
                stream.Abort(direction, code);
            }
            else if (stream.CanWrite)
            {
                stream.CompleteWrites();
            }
        }
        catch (Exception ex) when (ex is QuicException or WebTransportStreamException or IOException)
        {
            // The peer reset the stream or the connection went away: what was read was delivered or reported.
            Log.StreamAborted(_logger, session.Id, stream.Id, ex.Message);
        }
        finally
        {
            await input.CompleteAsync().ConfigureAwait(false);
            await stream.DisposeAsync().ConfigureAwait(false);
            _metrics.StreamChanged(-1);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "WebTransport session {SessionId} opened: {Authority}{Path}")]
        public static partial void SessionOpened(ILogger logger, long sessionId, string authority, string path);

        [LoggerMessage(2, LogLevel.Information, "WebTransport session {SessionId} closed")]
        public static partial void SessionClosed(ILogger logger, long sessionId);

        [LoggerMessage(3, LogLevel.Warning, "WebTransport session refused with {Status}: {Authority}{Path} (origin {Origin})")]
        public static partial void SessionRefused(ILogger logger, string authority, string path, int status, string? origin);

        [LoggerMessage(4, LogLevel.Warning, "Session {SessionId} stream {StreamId} stopped: {Outcome} (code 0x{Code:x2}): {Detail}")]
        public static partial void StreamFailed(ILogger logger, long sessionId, long streamId, DeliveryOutcome outcome, byte code, string? detail);

        [LoggerMessage(5, LogLevel.Debug, "Session {SessionId} stream {StreamId} aborted by the peer: {Reason}")]
        public static partial void StreamAborted(ILogger logger, long sessionId, long streamId, string reason);

        [LoggerMessage(6, LogLevel.Debug, "Session {SessionId} datagram dropped: {Outcome}")]
        public static partial void DatagramDropped(ILogger logger, long sessionId, DeliveryOutcome outcome);
    }
}

/// <summary>A read-only <see cref="Stream"/> over a WebTransport stream, so <see cref="PipeReader.Create(Stream, StreamPipeReaderOptions?)"/> can pool its buffers.</summary>
internal sealed class WebTransportReadStream : Stream
{
    private readonly WebTransportStream _stream;

    public WebTransportReadStream(WebTransportStream stream) => _stream = stream;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => _stream.ReadAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        _stream.ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
