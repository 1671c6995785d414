using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Switchyard.Kubernetes.DevApiServer.Http;
using Switchyard.Kubernetes.DevApiServer.Storage;

namespace Switchyard.Kubernetes.DevApiServer;

/// <summary>Options of a <see cref="DevApiServer"/>.</summary>
public sealed record DevApiServerOptions
{
    /// <summary>How many events the watch history keeps; a watch from an older resourceVersion gets 410 Expired.</summary>
    public int HistoryCapacity { get; init; } = 1000;

    /// <summary>How often a watch that allows bookmarks receives one.</summary>
    public TimeSpan BookmarkInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Receives one line per request, for debugging.</summary>
    public Action<string>? Log { get; init; }

    /// <summary>
    /// What Pods' containers wrote, for <c>pods/NAME/log</c> (the kubelet's part); null answers every log request
    /// with 400, as for a Pod none of whose containers runs.
    /// </summary>
    public Logs.IPodLogSource? PodLogs { get; init; }
}

/// <summary>
/// An in-process stand-in for kube-apiserver, over plain HTTP: the behaviours of <c>KUBE-API-NOTES.md</c> on an
/// in-memory store, with CRDs registering their resources, so that the controller and <c>kubectl</c> can run
/// against it.
/// </summary>
public sealed class DevApiServer : IAsyncDisposable
{
    private readonly DevApiServerOptions _options;
    private readonly ObjectStore _store;
    private WebApplication? _app;
    private Uri? _baseAddress;

    /// <summary>Creates a server (not yet listening).</summary>
    public DevApiServer(DevApiServerOptions? options = null)
    {
        _options = options ?? new DevApiServerOptions();
        _store = new ObjectStore(_options.HistoryCapacity);
    }

    /// <summary>The address the server listens on, for example <c>http://127.0.0.1:41234</c>.</summary>
    /// <exception cref="InvalidOperationException">Before <see cref="StartAsync"/>.</exception>
    public Uri BaseAddress => _baseAddress ?? throw new InvalidOperationException("the server has not been started");

    /// <summary>The current global resourceVersion.</summary>
    public long ResourceVersion => _store.CurrentResourceVersion;

    /// <summary>Starts listening on <paramref name="endpoint"/> (port 0 picks a free port).</summary>
    public async Task StartAsync(IPEndPoint endpoint, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (_app is not null)
        {
            throw new InvalidOperationException("the server is already started");
        }

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        // The embedding process owns Ctrl+C and SIGTERM; the default console lifetime would swallow them.
        builder.Services.AddSingleton<IHostLifetime, EmbeddedLifetime>();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(endpoint);
            k.Limits.MaxRequestBodySize = 4 * 1024 * 1024;
            k.AddServerHeader = false;
        });
        var app = builder.Build();
        var handler = new ApiHandler(_store, _options, () => _baseAddress?.Authority ?? endpoint.ToString());
        app.Run(handler.HandleAsync);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        _baseAddress = new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal).Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal));
        _app = app;
    }

    /// <summary>Stops listening; open watches end.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        var app = Interlocked.Exchange(ref _app, null);
        if (app is not null)
        {
            _store.PauseWatches();
            await app.StopAsync(cancellationToken).ConfigureAwait(false);
            await app.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    /// <summary>A kubeconfig (YAML) whose only context points at this server, without credentials.</summary>
    public string KubeconfigText => string.Create(CultureInfo.InvariantCulture, $"""
        apiVersion: v1
        kind: Config
        clusters:
        - name: switchyard-dev
          cluster:
            server: {BaseAddress.GetLeftPart(UriPartial.Authority)}
        users:
        - name: switchyard-dev
          user: {"{}"}
        contexts:
        - name: switchyard-dev
          context:
            cluster: switchyard-dev
            user: switchyard-dev
            namespace: default
        current-context: switchyard-dev

        """);

    /// <summary>Writes <see cref="KubeconfigText"/> to <paramref name="path"/>.</summary>
    public void WriteKubeconfig(string path) => File.WriteAllText(path, KubeconfigText);

    /// <summary>
    /// Compacts the history like etcd compaction: open watches receive an in-stream ERROR 410 Expired and end, a
    /// watch from any resourceVersion older than now gets the same, and outstanding continue tokens answer 410.
    /// </summary>
    public void ExpireWatchHistory() => _store.ExpireHistory();

    /// <summary>Test hook: ends every open watch silently and answers new watches 503 until <see cref="ResumeWatches"/>
    /// (a network partition between clients and the server).</summary>
    public void PauseWatches() => _store.PauseWatches();

    /// <summary>Ends <see cref="PauseWatches"/>.</summary>
    public void ResumeWatches() => _store.ResumeWatches();

    /// <summary>Runs a server until <paramref name="cancellationToken"/> is cancelled (the CLI's entry point).</summary>
    /// <param name="listen">The address to listen on.</param>
    /// <param name="kubeconfigPath">Where to write a kubeconfig pointing at the server, or null.</param>
    /// <param name="cancellationToken">Stops the server.</param>
    /// <param name="options">Options, or null for defaults.</param>
    public static async Task RunAsync(IPEndPoint listen, string? kubeconfigPath, CancellationToken cancellationToken, DevApiServerOptions? options = null)
    {
        await using var server = new DevApiServer(options);
        await server.StartAsync(listen, cancellationToken).ConfigureAwait(false);
        if (kubeconfigPath is not null)
        {
            server.WriteKubeconfig(kubeconfigPath);
        }

        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Normal shutdown.
        }
    }
}

/// <summary>A host lifetime that leaves process signals alone.</summary>
internal sealed class EmbeddedLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
