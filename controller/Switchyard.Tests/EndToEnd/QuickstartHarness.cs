using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Switchyard.Cli.Standalone;
using Switchyard.Processors;

using Xunit.Abstractions;

namespace Switchyard.Tests.EndToEnd;

/// <summary>
/// The quickstart on free ports: the three example processors, the shipped quickstart manifests with the
/// EndpointSlices pointed at those processors, and the standalone gateway with its page and admin servers.
/// </summary>
internal sealed class QuickstartHarness : IAsyncDisposable
{
    private readonly List<ProcessorHost> _processors = [];
    private readonly ILoggerFactory _loggerFactory;

    private QuickstartHarness(string manifests, ILoggerFactory loggerFactory)
    {
        ManifestDirectory = manifests;
        _loggerFactory = loggerFactory;
    }

    public string ManifestDirectory { get; }

    public StandaloneGateway Gateway { get; private set; } = null!;

    public ProcessorHost Video => _processors[0];

    public ProcessorHost Audio => _processors[1];

    public ProcessorHost Chat => _processors[2];

    public static string RepositoryRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Controller.sln")))
            {
                dir = dir.Parent;
            }

            return dir?.FullName ?? throw new InvalidOperationException("Controller.sln not found above the test binaries.");
        }
    }

    /// <param name="output">Receives the gateway's logs.</param>
    /// <param name="allowedOrigins">The gateway's allowed origins; empty or null allows any.</param>
    /// <param name="deliveryMode">The delivery mode every rule of the shipped route is rewritten to (it ships <c>Message</c>).</param>
    public static async Task<QuickstartHarness> StartAsync(ITestOutputHelper output, IReadOnlyList<string>? allowedOrigins = null, string deliveryMode = "Message")
    {
        var manifests = Directory.CreateTempSubdirectory("switchyard-quickstart-").FullName;
        var loggerFactory = LoggerFactory.Create(b => b.AddProvider(new TestOutputLoggerProvider(output)).SetMinimumLevel(LogLevel.Information));
        var harness = new QuickstartHarness(manifests, loggerFactory);
        foreach (var kind in new[] { ProcessorKind.Video, ProcessorKind.Audio, ProcessorKind.Chat })
        {
            harness._processors.Add(await ProcessorHost.StartAsync(kind, new IPEndPoint(IPAddress.Loopback, 0)));
        }

        // The shipped manifests, with the backends' EndpointSlices rewritten to the processors' ports.
        var source = Path.Combine(RepositoryRoot, "examples", "quickstart");
        foreach (var file in Directory.GetFiles(source, "*.yaml"))
        {
            var text = await File.ReadAllTextAsync(file);
            text = text.Replace("port: 5001", $"port: {harness.Video.Port}", StringComparison.Ordinal)
                       .Replace("port: 5002", $"port: {harness.Audio.Port}", StringComparison.Ordinal)
                       .Replace("port: 5003", $"port: {harness.Chat.Port}", StringComparison.Ordinal)
                       .Replace("mode: Message", $"mode: {deliveryMode}", StringComparison.Ordinal);
            await File.WriteAllTextAsync(Path.Combine(manifests, Path.GetFileName(file)), text);
        }

        harness.Gateway = new StandaloneGateway(new StandaloneOptions
        {
            ManifestDirectory = manifests,
            QuicEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
            AdminEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
            PageEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
            PageRoot = Path.Combine(RepositoryRoot, "examples", "live-client"),
            AllowedOrigins = allowedOrigins ?? [],
        }, loggerFactory);
        await harness.Gateway.StartAsync(CancellationToken.None);
        return harness;
    }

    /// <summary>A processor's <c>/stats</c>: messages and payload bytes per track ID.</summary>
    public static async Task<Dictionary<string, (long Messages, long Bytes)>> StatsAsync(ProcessorHost host)
    {
        using var http = new HttpClient();
        var json = await http.GetFromJsonAsync<JsonObject>(new Uri(host.BaseAddress, "stats"));
        var result = new Dictionary<string, (long, long)>();
        foreach (var (id, value) in json!["tracks"]!.AsObject())
        {
            result[id] = (value!["messages"]!.GetValue<long>(), value["bytes"]!.GetValue<long>());
        }

        return result;
    }

    /// <summary>The value of one series on <c>/metrics</c>, or 0 when it is absent.</summary>
    public async Task<double> MetricAsync(string series)
    {
        using var http = new HttpClient();
        var text = await http.GetStringAsync(new Uri(Gateway.AdminAddress, "metrics"));
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith(series + " ", StringComparison.Ordinal))
            {
                return double.Parse(line[(series.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }

    public async ValueTask DisposeAsync()
    {
        if (Gateway is not null)
        {
            await Gateway.DisposeAsync();
        }

        foreach (var p in _processors)
        {
            await p.DisposeAsync();
        }

        _loggerFactory.Dispose();
        Directory.Delete(ManifestDirectory, recursive: true);
    }
}

/// <summary>Routes logs into the xunit output so a failing run shows what the gateway said.</summary>
internal sealed class TestOutputLoggerProvider(ITestOutputHelper output) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new Logger(output, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(ITestOutputHelper output, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            try
            {
                output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel} {category}: {formatter(state, exception)}{(exception is null ? string.Empty : " " + exception)}");
            }
            catch (InvalidOperationException)
            {
                // The test already finished; its output is closed.
            }
        }
    }
}
