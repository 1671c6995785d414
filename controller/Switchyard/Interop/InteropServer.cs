using System.Buffers;
using System.Globalization;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Switchyard.Http3;
using Switchyard.Http3.Connection;
using Switchyard.Http3.Server;
using Switchyard.Transport;

namespace Switchyard.Cli.Interop;

/// <summary>What <c>switchyard interop server</c> was asked to do.</summary>
internal sealed class InteropServerOptions
{
    public required IPEndPoint ListenEndPoint { get; init; }

    /// <summary>The document root: request paths resolve inside it and never above it.</summary>
    public required string WwwRoot { get; init; }

    public required X509Certificate2 Certificate { get; init; }

    /// <summary>The QUIC Interop Runner test case, or null.</summary>
    public string? TestCase { get; init; }

    /// <summary>Where TLS secrets go (<c>SSLKEYLOGFILE</c>), or null.</summary>
    public string? KeyLogFile { get; init; }
}

/// <summary>
/// The interop runner's server role: an HTTP/3 file server over <see cref="InteropServerOptions.WwwRoot"/>. It serves
/// until cancelled, one <see cref="Http3ServerConnection"/> per QUIC connection, and logs each connection's counters
/// when it closes so a failed run can be read from stderr.
/// </summary>
internal sealed class InteropServer
{
    private const int ChunkSize = 64 * 1024;
    private readonly InteropServerOptions _options;
    private readonly TextWriter _log;
    private readonly string _root;

    public InteropServer(InteropServerOptions options, TextWriter log)
    {
        _options = options;
        _log = log;
        _root = Path.GetFullPath(options.WwwRoot).TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;
    }

    /// <summary>Creates the QUIC listener options for the test case: ALPN h3, a Retry for every client under <c>retry</c>.</summary>
    public static QuicServerOptions CreateQuicOptions(InteropServerOptions options) => new()
    {
        ListenEndPoint = options.ListenEndPoint,
        ServerCertificate = options.Certificate,
        ApplicationProtocols = ["h3"],
        RequireRetry = options.TestCase == "retry",
        KeyLogFile = options.KeyLogFile,
        // The interop runner's multiplexing case opens many small requests at once.
        MaxInboundBidirectionalStreams = 1000,
    };

    /// <summary>Listens, prints <c>listening on ADDR:PORT</c> to <paramref name="output"/>, and serves until cancelled.</summary>
    public async Task<int> RunAsync(IQuicTransport transport, TextWriter output, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(_root))
        {
            await _log.WriteLineAsync($"interop server: --www {_options.WwwRoot} does not exist").ConfigureAwait(false);
            return 1;
        }

        await using var listener = await transport.ListenAsync(CreateQuicOptions(_options), cancellationToken).ConfigureAwait(false);
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"listening on {listener.LocalEndPoint}")).ConfigureAwait(false);
        await output.FlushAsync(cancellationToken).ConfigureAwait(false);

        var connections = new List<Task>();
        while (!cancellationToken.IsCancellationRequested)
        {
            IQuicConnection connection;
            try
            {
                connection = await listener.AcceptConnectionAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                break;
            }

            connections.RemoveAll(t => t.IsCompleted);
            connections.Add(Task.Run(() => ServeConnectionAsync(connection, cancellationToken), CancellationToken.None));
        }

        await Task.WhenAll(connections).ConfigureAwait(false);
        return 0;
    }

    private async Task ServeConnectionAsync(IQuicConnection connection, CancellationToken cancellationToken)
    {
        var remote = connection.RemoteEndPoint;
        try
        {
            await using (connection.ConfigureAwait(false))
            {
                var http3 = new Http3ServerConnection(connection, new Http3ConnectionOptions(), HandleAsync);
                await http3.RunAsync(cancellationToken).ConfigureAwait(false);
                var s = connection.GetStatistics();
                await _log.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"interop server: {remote} closed; sent {s.BytesSent} B in {s.PacketsSent} packets, received {s.BytesReceived} B in {s.PacketsReceived} packets, lost {s.PacketsLost}, srtt {s.SmoothedRtt.TotalMilliseconds:F1} ms; key phase changes {s.KeyPhaseChanges}, key updates initiated {s.KeyUpdatesInitiated}; before address validation received {s.UnvalidatedBytesReceived} B, sent {s.UnvalidatedBytesSent} B, amplification-limited {s.AmplificationLimitedCount} times")).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // One connection's failure never stops the server; it is reported for whoever reads the run's log.
            await _log.WriteLineAsync($"interop server: {remote} failed: {e.GetType().Name}: {e.Message}").ConfigureAwait(false);
        }
    }

    /// <summary>GET and HEAD of a file under the root; 404 for anything else that is not there, 405 for other methods.</summary>
    internal async Task HandleAsync(Http3Request request, Http3Response response)
    {
        if (request.Method is not ("GET" or "HEAD"))
        {
            response.StatusCode = 405;
            response.Headers.Add(new HeaderField("allow", "GET, HEAD"));
            return;
        }

        var file = InteropPaths.MapUnder(_root, request.Path);
        if (file is null || !File.Exists(file))
        {
            response.StatusCode = 404;
            return;
        }

        var stream = new FileStream(file, new FileStreamOptions { Mode = FileMode.Open, Access = FileAccess.Read, Share = FileShare.Read, Options = FileOptions.SequentialScan | FileOptions.Asynchronous, BufferSize = 0 });
        await using (stream.ConfigureAwait(false))
        {
            response.Headers.Add(new HeaderField("content-length", stream.Length.ToString(CultureInfo.InvariantCulture)));
            response.Headers.Add(new HeaderField("content-type", "application/octet-stream"));
            await response.SendHeadersAsync().ConfigureAwait(false);
            if (request.Method == "HEAD")
            {
                return;
            }

            var buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
            try
            {
                int read;
                while ((read = await stream.ReadAsync(buffer.AsMemory(0, ChunkSize)).ConfigureAwait(false)) > 0)
                {
                    await response.WriteAsync(buffer.AsMemory(0, read)).ConfigureAwait(false);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }
}
