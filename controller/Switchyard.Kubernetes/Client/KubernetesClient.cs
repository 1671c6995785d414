using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Switchyard.Kubernetes.Config;

namespace Switchyard.Kubernetes.Client;

/// <summary>
/// A small Kubernetes REST client: one <see cref="HttpClient"/> shared by every <see cref="ResourceClient{T}"/>.
/// </summary>
public sealed class KubernetesClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;

    /// <summary>Creates a client from a configuration (kubeconfig or in-cluster).</summary>
    public KubernetesClient(KubernetesClientConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        Configuration = configuration;
#pragma warning disable CA2000 // The HttpClient owns and disposes the handler chain.
        var handler = new BearerTokenHandler(configuration.Token, configuration.TokenFile, configuration.CreateHandler());
#pragma warning restore CA2000
        _http = new HttpClient(handler, disposeHandler: true)
        {
            BaseAddress = configuration.Server,
            Timeout = Timeout.InfiniteTimeSpan,
        };
        _ownsHttp = true;
    }

    /// <summary>Creates a client over an existing <see cref="HttpClient"/> whose BaseAddress is the API server.</summary>
    public KubernetesClient(HttpClient httpClient, string @namespace = "default")
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        _http = httpClient;
        Configuration = new KubernetesClientConfiguration
        {
            Server = httpClient.BaseAddress ?? throw new ArgumentException("BaseAddress is required", nameof(httpClient)),
            Namespace = @namespace,
        };
    }

    /// <summary>The configuration this client was built from.</summary>
    public KubernetesClientConfiguration Configuration { get; }

    /// <summary>Timeout of every request except watches. Default 30 s.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>A typed client for one resource.</summary>
    /// <typeparam name="T">The object type.</typeparam>
    /// <param name="type">The resource.</param>
    /// <param name="typeInfo">Serialization metadata of <typeparamref name="T"/> (source-generated is fine).</param>
    public ResourceClient<T> Resource<T>(ResourceType type, JsonTypeInfo<T> typeInfo) where T : class => new(this, type, typeInfo);

    /// <summary>An untyped client for one resource, over <see cref="JsonObject"/>.</summary>
    /// <param name="type">The resource.</param>
    public ResourceClient<JsonObject> Resource(ResourceType type) => new(this, type, KubernetesJsonContext.Default.JsonObject);

    /// <summary>GET an arbitrary path and return its JSON (discovery, /version).</summary>
    /// <param name="path">An absolute path such as <c>/apis</c>.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public async Task<JsonNode?> GetJsonAsync(string path, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        return await SendAsync(request, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Reads a Pod's container log (<c>GET .../pods/NAME/log</c>), shaped like KubernetesClient's
    /// <c>ReadNamespacedPodLogAsync</c>: the text of the log, one line per entry.
    /// </summary>
    /// <param name="namespace">The Pod's namespace.</param>
    /// <param name="name">The Pod's name.</param>
    /// <param name="container">The container, or null for the Pod's only one.</param>
    /// <param name="sinceTime">Only entries at or after this time, or null for all.</param>
    /// <param name="timestamps">When true every line starts with its RFC 3339 timestamp and a space.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <exception cref="KubernetesApiException">The server refused (for example 404 for no such Pod, 400 for no log yet).</exception>
    public async Task<string> ReadPodLogAsync(string @namespace, string name, string? container = null, DateTimeOffset? sinceTime = null, bool timestamps = false, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(@namespace);
        ArgumentException.ThrowIfNullOrEmpty(name);
        var query = new List<string>();
        if (container is not null)
        {
            query.Add("container=" + Uri.EscapeDataString(container));
        }

        if (sinceTime is { } since)
        {
            query.Add("sinceTime=" + Uri.EscapeDataString(since.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture)));
        }

        if (timestamps)
        {
            query.Add("timestamps=true");
        }

        var path = $"/api/v1/namespaces/{Uri.EscapeDataString(@namespace)}/pods/{Uri.EscapeDataString(name)}/log" + (query.Count == 0 ? "" : "?" + string.Join('&', query));
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        return System.Text.Encoding.UTF8.GetString(await SendForBytesAsync(request, "text/plain", cancellationToken).ConfigureAwait(false));
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }

    internal async Task<JsonNode?> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var bytes = await SendForBytesAsync(request, "application/json", cancellationToken).ConfigureAwait(false);
        return bytes.Length == 0 ? null : ParseBody(bytes);
    }

    /// <summary>Sends under <see cref="RequestTimeout"/> and returns the body of a 2xx; any other status throws its Status.</summary>
    private async Task<byte[]> SendForBytesAsync(HttpRequestMessage request, string accept, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(RequestTimeout);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(accept));
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cts.Token).ConfigureAwait(false);
            var bytes = await response.Content.ReadAsByteArrayAsync(cts.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw ToException(response.StatusCode, bytes);
            }

            return bytes;
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"{request.Method} {request.RequestUri} did not answer within {RequestTimeout}", ex);
        }
    }

    internal async Task<HttpResponseMessage> SendStreamingAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            throw ToException(response.StatusCode, bytes);
        }
    }

    internal static KubernetesApiException ToException(HttpStatusCode code, byte[] body)
    {
        KubernetesStatus? status = null;
        try
        {
            status = KubernetesStatus.FromJson(JsonNode.Parse(body));
        }
        catch (JsonException)
        {
            // Not a Status (a proxy's HTML page, for example): fall through to a synthesized one.
        }

        status ??= new KubernetesStatus((int)code, code.ToString(), System.Text.Encoding.UTF8.GetString(body.AsSpan(0, Math.Min(body.Length, 512))), null, null, null, []);
        if (status.Code == 0)
        {
            status = status with { Code = (int)code };
        }

        return new KubernetesApiException(status);
    }

    private static JsonNode? ParseBody(byte[] bytes)
    {
        try
        {
            return JsonNode.Parse(bytes);
        }
        catch (JsonException ex)
        {
            throw new KubernetesApiException($"API server answered with invalid JSON (RFC 8259): {ex.Message}", ex);
        }
    }
}
