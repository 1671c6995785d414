using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Switchyard.Benchmarks.Harness;

namespace Switchyard.Benchmarks.WebTransport;

/// <summary>What the backend received in one phase, per track type: messages, payload bytes and one-way latencies.</summary>
internal sealed class PhaseRecord
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, (long Messages, long Bytes, List<double> LatenciesMs)> _tracks = [];

    public void Add(string trackType, long bytes, double latencyMs)
    {
        lock (_lock)
        {
            if (!_tracks.TryGetValue(trackType, out var track))
            {
                track = (0, 0, []);
            }

            track.LatenciesMs.Add(latencyMs);
            _tracks[trackType] = (track.Messages + 1, track.Bytes + bytes, track.LatenciesMs);
        }
    }

    public long Messages
    {
        get { lock (_lock) { return _tracks.Values.Sum(t => t.Messages); } }
    }

    public (long Messages, long Bytes) Track(string trackType)
    {
        lock (_lock)
        {
            return _tracks.TryGetValue(trackType, out var t) ? (t.Messages, t.Bytes) : (0, 0);
        }
    }

    /// <summary>A copy of the latencies of one track type, or of all when <paramref name="trackType"/> is null.</summary>
    public List<double> Latencies(string? trackType = null)
    {
        lock (_lock)
        {
            return _tracks.Where(t => trackType is null || t.Key == trackType).SelectMany(t => t.Value.LatenciesMs).ToList();
        }
    }
}

/// <summary>
/// The backend of <c>wt-clients</c>, standing in for the seed's three processors: one Kestrel server on three ports
/// (video, audio, chat) that reads each POST's payload, takes the send time out of its stamp and records the one-way
/// latency (the clients run in this process, so both ends read the same monotonic clock) under the stamp's phase.
/// </summary>
internal sealed class LatencyBackend : IAsyncDisposable
{
    private readonly ConcurrentDictionary<int, PhaseRecord> _phases = new();
    private KestrelBackend? _server;
    private long _unstamped;

    /// <summary>The port of each track type's processor.</summary>
    public IReadOnlyDictionary<string, int> Ports { get; private set; } = new Dictionary<string, int>();

    /// <summary>POSTs whose payload carried no stamp (should stay 0).</summary>
    public long Unstamped => Interlocked.Read(ref _unstamped);

    public static async Task<LatencyBackend> StartAsync()
    {
        var backend = new LatencyBackend();
        backend._server = await KestrelBackend.StartAsync([0, 0, 0], backend.HandleAsync).ConfigureAwait(false);
        backend.Ports = Workload.Tracks.Select((t, i) => (t.TrackType, Port: backend._server.Ports[i])).ToDictionary(p => p.TrackType, p => p.Port);
        return backend;
    }

    public PhaseRecord Phase(int phase) => _phases.GetOrAdd(phase, _ => new PhaseRecord());

    private async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value;
        var track = Workload.Tracks.FirstOrDefault(t => t.BackendPath == path);
        var length = (int)(context.Request.ContentLength ?? 0);
        if (track is null || !HttpMethods.IsPost(context.Request.Method) || length is < Workload.StampSize or > (1 << 20))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            var read = await context.Request.Body.ReadAtLeastAsync(buffer.AsMemory(0, length), length, throwOnEndOfStream: false).ConfigureAwait(false);
            var now = Stopwatch.GetTimestamp();
            if (read != length || !Workload.TryReadStamp(buffer.AsSpan(0, length), out var sent, out var phase))
            {
                Interlocked.Increment(ref _unstamped);
                context.Response.StatusCode = StatusCodes.Status400BadRequest;
                return;
            }

            Phase(phase).Add(track.TrackType, length, Stopwatch.GetElapsedTime(sent, now).TotalMilliseconds);
            context.Response.StatusCode = StatusCodes.Status200OK;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync().ConfigureAwait(false);
        }
    }
}
