using System.Diagnostics;
using System.Globalization;
using System.Net;
using Switchyard.Delivery;
using Switchyard.Http3.Client;
using Switchyard.Quic.Udp;
using Switchyard.Tracks.Framing;
using Switchyard.Transport;
using Switchyard.WebTransport.Client;
using Switchyard.WebTransport.Sessions;

namespace Switchyard.Benchmarks.WebTransport;

/// <summary>
/// One simulated client: every track of <see cref="Workload.Tracks"/> sends on its own schedule (a random phase, then
/// one message per interval) until the end of the window. A track that falls behind sends back to back until it has
/// caught up, so under overload the achieved rate shows it. Counts what was sent and what failed.
/// </summary>
internal abstract class SimulatedClient
{
    private long _sent;
    private long _sentBytes;
    private long _failed;
    private readonly long[] _sentPerTrack = new long[Workload.Tracks.Count];

    protected SimulatedClient(int id) => Id = id;

    public int Id { get; }

    public long Sent => Interlocked.Read(ref _sent);

    public long SentBytes => Interlocked.Read(ref _sentBytes);

    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>Messages sent on one track (index into <see cref="Workload.Tracks"/>).</summary>
    public long SentOn(int track) => Interlocked.Read(ref _sentPerTrack[track]);

    /// <summary>Runs every track from <paramref name="start"/> to <paramref name="end"/> (Stopwatch timestamps).</summary>
    public Task RunAsync(int phase, long start, long end) =>
        Task.WhenAll(Enumerable.Range(0, Workload.Tracks.Count).Select(t => TrackLoopAsync(t, phase, start, end)));

    protected abstract Task SendAsync(int track, int payloadLength, int phase);

    protected string TrackId(int track) => string.Create(CultureInfo.InvariantCulture, $"c{Id}-{Workload.Tracks[track].TrackType}");

    private async Task TrackLoopAsync(int track, int phase, long start, long end)
    {
        await Task.Yield();
        var profile = Workload.Tracks[track];
        var random = new Random(HashCode.Combine(Id, track, phase));
        var interval = Stopwatch.Frequency / profile.MessagesPerSecond;
        var next = start + random.NextDouble() * interval;
        while (true)
        {
            if ((long)next >= end)
            {
                // The next slot is past the window: stop now rather than sleep past the end, so the window is exact.
                return;
            }

            var wait = (long)next - Stopwatch.GetTimestamp();
            if (wait > 0)
            {
                await Task.Delay(TimeSpan.FromSeconds(wait / (double)Stopwatch.Frequency)).ConfigureAwait(false);
            }

            if (Stopwatch.GetTimestamp() >= end)
            {
                return;
            }

            next += interval;
            var length = random.Next(profile.MinPayload, profile.MaxPayload + 1);
            try
            {
                await SendAsync(track, length, phase).ConfigureAwait(false);
                Interlocked.Increment(ref _sent);
                Interlocked.Increment(ref _sentPerTrack[track]);
                Interlocked.Add(ref _sentBytes, length);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // The stream or the session is gone (for example reset by the gateway): this track stops here.
                Interlocked.Increment(ref _failed);
                return;
            }
        }
    }
}

/// <summary>A client of the gateway: one QUIC connection, one WebTransport session on <c>/wt</c>, one uni stream per track.</summary>
internal sealed class GatewayClient : SimulatedClient, IAsyncDisposable
{
    private readonly IQuicConnection _quic;
    private readonly Http3ClientConnection _h3;
    private readonly WebTransportSession _session;
    private readonly WebTransportStream[] _streams;

    private GatewayClient(int id, IQuicConnection quic, Http3ClientConnection h3, WebTransportSession session, WebTransportStream[] streams)
        : base(id)
    {
        _quic = quic;
        _h3 = h3;
        _session = session;
        _streams = streams;
    }

    public static async Task<GatewayClient> ConnectAsync(int id, IPEndPoint gateway, byte[] certificateSha256, CancellationToken cancellationToken)
    {
        var quic = await ManagedQuicTransport.Instance.ConnectAsync(new QuicClientOptions
        {
            RemoteEndPoint = gateway,
            TargetHostName = "127.0.0.1",
            ApplicationProtocols = ["h3"],
            PinnedCertificateSha256 = certificateSha256,
        }, cancellationToken).ConfigureAwait(false);
        try
        {
            var h3 = await Http3ClientConnection.ConnectAsync(quic, WebTransportClient.ConfigureHttp3(), cancellationToken).ConfigureAwait(false);
            var session = await WebTransportClient.ConnectAsync(h3, $"127.0.0.1:{gateway.Port}", "/wt", origin: "http://127.0.0.1", cancellationToken: cancellationToken).ConfigureAwait(false);
            var streams = new WebTransportStream[Workload.Tracks.Count];
            for (var t = 0; t < streams.Length; t++)
            {
                streams[t] = await session.OpenUnidirectionalStreamAsync(cancellationToken).ConfigureAwait(false);
            }

            return new GatewayClient(id, quic, h3, session, streams);
        }
        catch
        {
            await quic.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    protected override async Task SendAsync(int track, int payloadLength, int phase)
    {
        var header = TrackHeader.Create(TrackId(track), Workload.Tracks[track].TrackType, (uint)payloadLength);
        var message = new byte[TrackHeader.Size + payloadLength];
        header.WriteTo(message);
        Workload.Stamp(message.AsSpan(TrackHeader.Size), phase, Id);
        await _streams[track].WriteAsync(message).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            foreach (var stream in _streams)
            {
                stream.CompleteWrites();
            }

            await _session.DisposeAsync().ConfigureAwait(false);
            await _h3.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Already closed by the peer; the QUIC connection is disposed below either way.
        }

        await _quic.DisposeAsync().ConfigureAwait(false);
    }
}

/// <summary>
/// The baseline: the same schedule POSTed straight to the backend with the gateway's own delivery handler settings
/// (<see cref="HttpMessageDeliverer.CreateHandler"/>) and headers, one request at a time per track, as the gateway does.
/// </summary>
internal sealed class DirectClient(int id, HttpMessageInvoker http, IReadOnlyDictionary<string, int> ports) : SimulatedClient(id)
{
    protected override async Task SendAsync(int track, int payloadLength, int phase)
    {
        var profile = Workload.Tracks[track];
        var payload = new byte[payloadLength];
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri($"http://127.0.0.1:{ports[profile.TrackType]}{profile.BackendPath}"))
        {
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(payload),
        };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/octet-stream");
        request.Headers.TryAddWithoutValidation("X-Track-Id", TrackId(track));
        request.Headers.TryAddWithoutValidation("X-Track-Type", profile.TrackType);
        request.Headers.TryAddWithoutValidation("X-Session-Id", Id.ToString(CultureInfo.InvariantCulture));
        Workload.Stamp(payload, phase, Id);
        using var response = await http.SendAsync(request, CancellationToken.None).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
    }
}
