using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Switchyard.Http3;
using Switchyard.Http3.Client;
using Switchyard.Transport;

namespace Switchyard.Cli.Interop;

/// <summary>What <c>switchyard interop client</c> was asked to do.</summary>
internal sealed class InteropClientOptions
{
    /// <summary>The URLs to fetch; each lands under <see cref="DownloadDirectory"/> at its URL path.</summary>
    public required IReadOnlyList<Uri> Urls { get; init; }

    public required string DownloadDirectory { get; init; }

    /// <summary>The root the server's certificate must chain to; null skips validation, as the interop runner expects.</summary>
    public X509Certificate2? TrustedRoot { get; init; }

    /// <summary>The QUIC Interop Runner test case, or null.</summary>
    public string? TestCase { get; init; }

    /// <summary>Where TLS secrets go (<c>SSLKEYLOGFILE</c>), or null.</summary>
    public string? KeyLogFile { get; init; }

    /// <summary>How long the whole run may take.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(5);
}

/// <summary>
/// The interop runner's client role: one HTTP/3 connection per server (host and port), every URL requested on its
/// own stream at once (multiplexing), each body written as it arrives to a file named by the URL path.
/// </summary>
internal sealed class InteropClient
{
    private const int ChunkSize = 64 * 1024;
    private readonly InteropClientOptions _options;
    private readonly TextWriter _log;

    public InteropClient(InteropClientOptions options, TextWriter log)
    {
        _options = options;
        _log = log;
    }

    /// <summary>Downloads every URL. Returns 0 when all arrived whole with status 200, else 1.</summary>
    public async Task<int> RunAsync(IQuicTransport transport, CancellationToken cancellationToken)
    {
        foreach (var url in _options.Urls)
        {
            if (url.Scheme != Uri.UriSchemeHttps || InteropPaths.MapUnder(_options.DownloadDirectory, url.AbsolutePath) is null)
            {
                await _log.WriteLineAsync($"interop client: {url} is not an https URL naming a file").ConfigureAwait(false);
                return 1;
            }
        }

        Directory.CreateDirectory(_options.DownloadDirectory);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.Timeout);
        var servers = _options.Urls.GroupBy(u => (u.Host, u.Port)).ToList();
        var results = await Task.WhenAll(servers.Select(g => DownloadFromAsync(transport, g.Key.Host, g.Key.Port, g.ToList(), timeout.Token))).ConfigureAwait(false);
        return results.All(ok => ok) ? 0 : 1;
    }

    private QuicClientOptions CreateQuicOptions(string host, int port) => new()
    {
        RemoteEndPoint = IPAddress.TryParse(host.Trim('[', ']'), out var address) ? new IPEndPoint(address, port) : new DnsEndPoint(host, port),
        TargetHostName = host.Trim('[', ']'),
        TrustedRoot = _options.TrustedRoot,
        SkipCertificateValidation = _options.TrustedRoot is null,
        ApplicationProtocols = ["h3"],
        KeyLogFile = _options.KeyLogFile,
        // Large windows so a bulk download is not paced by our own flow control.
        StreamReceiveWindow = 8 << 20,
        ConnectionReceiveWindow = 32 << 20,
    };

    private async Task<bool> DownloadFromAsync(IQuicTransport transport, string host, int port, List<Uri> urls, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        IQuicConnection quic;
        try
        {
            quic = await transport.ConnectAsync(CreateQuicOptions(host, port), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is QuicException or OperationCanceledException or System.Net.Sockets.SocketException or System.Security.Authentication.AuthenticationException)
        {
            await _log.WriteLineAsync($"interop client: connecting to {host}:{port} failed: {e.GetType().Name}: {e.Message}").ConfigureAwait(false);
            return false;
        }

        await using (quic.ConfigureAwait(false))
        {
            var handshake = clock.Elapsed;
            var http3 = await Http3ClientConnection.ConnectAsync(quic, cancellationToken: cancellationToken).ConfigureAwait(false);

            // keyupdate: the client starts a key update early in the transfer, once RFC 9001 §6.1 allows it (handshake
            // confirmed, a 1-RTT packet acknowledged), and the download continues under the new keys.
            var keyUpdate = _options.TestCase == "keyupdate" ? StartKeyUpdate(quic, cancellationToken) : null;
            var downloads = await Task.WhenAll(urls.Select(u => DownloadAsync(http3, u, cancellationToken))).ConfigureAwait(false);
            var keyUpdated = keyUpdate is null || await FinishKeyUpdateAsync(keyUpdate, host, port).ConfigureAwait(false);
            var s = quic.GetStatistics();
            long bytes = downloads.Sum(d => Math.Max(0, d));
            await _log.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"interop client: {host}:{port} handshake {handshake.TotalMilliseconds:F0} ms; {downloads.Count(d => d >= 0)}/{urls.Count} files, {bytes} B in {clock.Elapsed.TotalSeconds:F2} s; sent {s.PacketsSent} packets, received {s.PacketsReceived}, lost {s.PacketsLost}, srtt {s.SmoothedRtt.TotalMilliseconds:F1} ms; key updates initiated {s.KeyUpdatesInitiated}, peer key phase changes {s.KeyPhaseChanges}")).ConfigureAwait(false);
            try
            {
                await http3.CloseAsync(Http3ErrorCode.NoError, "done").ConfigureAwait(false);
            }
            catch (QuicException)
            {
                // Already closed by the peer: nothing left to tell it.
            }

            return keyUpdated && downloads.All(d => d >= 0);
        }
    }

    private static Task StartKeyUpdate(IQuicConnection quic, CancellationToken cancellationToken) =>
        quic is IQuicKeyUpdateInitiator initiator
            ? initiator.RequestKeyUpdateAsync(cancellationToken).AsTask()
            : Task.FromException(new NotSupportedException($"the {quic.GetType().Name} transport cannot start a key update"));

    /// <summary>Waits for the key update the keyupdate test case started; false (logged) when it never began.</summary>
    private async Task<bool> FinishKeyUpdateAsync(Task keyUpdate, string host, int port)
    {
        try
        {
            await keyUpdate.ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is QuicException or OperationCanceledException or NotSupportedException)
        {
            await _log.WriteLineAsync($"interop client: {host}:{port} no key update was started: {e.GetType().Name}: {e.Message}").ConfigureAwait(false);
            return false;
        }
    }

    /// <summary>Fetches one URL into its file. Returns the body length, or -1 after logging why it failed.</summary>
    private async Task<long> DownloadAsync(Http3ClientConnection http3, Uri url, CancellationToken cancellationToken)
    {
        var target = InteropPaths.MapUnder(_options.DownloadDirectory, url.AbsolutePath)!;
        try
        {
            var stream = await http3.SendRequestHeadersAsync(new Http3RequestHead { Authority = url.Authority, Path = url.PathAndQuery }, endStream: true, cancellationToken).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                var head = await stream.ReadResponseAsync(cancellationToken).ConfigureAwait(false);
                if (head.StatusCode != 200)
                {
                    await _log.WriteLineAsync($"interop client: {url} answered {head.StatusCode}").ConfigureAwait(false);
                    return -1;
                }

                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                var file = new FileStream(target, new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Options = FileOptions.Asynchronous, BufferSize = 0 });
                long total = 0;
                var buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
                await using (file.ConfigureAwait(false))
                {
                    try
                    {
                        int read;
                        while ((read = await stream.ReadBodyAsync(buffer.AsMemory(0, ChunkSize), cancellationToken).ConfigureAwait(false)) > 0)
                        {
                            await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                            total += read;
                        }
                    }
                    finally
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                    }
                }

                var declared = head.GetHeader("content-length");
                if (declared is not null && declared != total.ToString(CultureInfo.InvariantCulture))
                {
                    await _log.WriteLineAsync($"interop client: {url} declared {declared} bytes and delivered {total}").ConfigureAwait(false);
                    return -1;
                }

                return total;
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            await _log.WriteLineAsync($"interop client: {url} failed: {e.GetType().Name}: {e.Message}").ConfigureAwait(false);
            return -1;
        }
    }
}
