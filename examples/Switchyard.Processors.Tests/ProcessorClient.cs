using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Switchyard.Processors.Tests;

/// <summary>Talks to a started <see cref="ProcessorHost"/> over real HTTP the way the gateway's Message delivery does.</summary>
internal sealed class ProcessorClient : IAsyncDisposable
{
    private readonly HttpClient _http;

    private ProcessorClient(ProcessorHost host)
    {
        Host = host;
        _http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = host.BaseAddress };
    }

    public ProcessorHost Host { get; }

    public static async Task<ProcessorClient> StartAsync(ProcessorKind kind, ProcessorHostOptions? options = null)
    {
        var host = await ProcessorHost.StartAsync(kind, new IPEndPoint(IPAddress.Loopback, 0), options ?? new ProcessorHostOptions());
        return new ProcessorClient(host);
    }

    /// <summary>POSTs one message; session/stream/sequence are sent only when <paramref name="sequence"/> is given.</summary>
    public async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(
        byte[] payload, string trackId, string trackType, string session = "s1", long stream = 2, long? sequence = null, string? path = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path ?? Host.ProcessPath)
        {
            Content = new ByteArrayContent(payload),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        request.Headers.Add("X-Track-Id", trackId);
        request.Headers.Add("X-Track-Type", trackType);
        if (sequence is { } seq)
        {
            request.Headers.Add("X-Session-Id", session);
            request.Headers.Add("X-Stream-Id", stream.ToString(System.Globalization.CultureInfo.InvariantCulture));
            request.Headers.Add("X-Message-Seq", seq.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        return await SendAsync(request);
    }

    public async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(HttpRequestMessage request)
    {
        using var response = await _http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var body = text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
        return (response.StatusCode, body);
    }

    public async Task<JsonElement> GetJsonAsync(string path)
    {
        using var response = await _http.GetAsync(new Uri(path, UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    /// <summary>The <c>/stats</c> entry of one track, or (0, 0) when the track is absent.</summary>
    public async Task<(long Messages, long Bytes)> TrackAsync(string trackId)
    {
        var stats = await GetJsonAsync("/stats");
        return stats.GetProperty("tracks").TryGetProperty(trackId, out var track)
            ? (track.GetProperty("messages").GetInt64(), track.GetProperty("bytes").GetInt64())
            : (0, 0);
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await Host.DisposeAsync();
    }
}
