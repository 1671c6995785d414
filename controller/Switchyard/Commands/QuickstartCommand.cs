using System.CommandLine;
using System.Net;
using Switchyard.Cli.Standalone;
using Switchyard.Processors;

namespace Switchyard.Cli;

/// <summary>
/// <c>switchyard quickstart</c>: the gateway on <c>examples/quickstart/</c>, the three example processors, and the live
/// client page — everything a newcomer needs to stream from a browser to three backends.
/// </summary>
internal static class QuickstartCommand
{
    public static Command Create()
    {
        var manifests = new Option<DirectoryInfo?>("--manifests") { Description = "Manifest folder (default: the quickstart manifests shipped with switchyard)." };
        var quic = Endpoints.Option("--quic", "Address of the quickstart Gateway's HTTPS listener: WebTransport and HTTP/3 on UDP, HTTP/1.1 and HTTP/2 on TCP", "127.0.0.1:4433");
        var http = Endpoints.Option("--http", "Address of the live client page and /cert-hash", "127.0.0.1:8080");
        var admin = Endpoints.Option("--admin", "Address for /metrics, /healthz and /readyz", "127.0.0.1:9090");
        var video = Endpoints.Option("--video-backend", "Address of the example video processor", "127.0.0.1:5001");
        var audio = Endpoints.Option("--audio-backend", "Address of the example audio processor", "127.0.0.1:5002");
        var chat = Endpoints.Option("--chat-backend", "Address of the example chat processor", "127.0.0.1:5003");
        var command = new Command("quickstart", "Start the gateway on the quickstart manifests, three example processors and the live client page.")
        {
            manifests, quic, http, admin, video, audio, chat,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var folder = parseResult.GetValue(manifests)?.FullName ?? Path.Combine(AppContext.BaseDirectory, "quickstart");
            var options = new StandaloneOptions
            {
                ManifestDirectory = folder,
                QuicEndPoint = parseResult.GetValue(quic)!,
                AdminEndPoint = parseResult.GetValue(admin)!,
                PageEndPoint = parseResult.GetValue(http)!,
                PageRoot = Path.Combine(AppContext.BaseDirectory, "live-client"),
            };
            var backends = new (ProcessorKind Kind, IPEndPoint EndPoint)[]
            {
                (ProcessorKind.Video, parseResult.GetValue(video)!),
                (ProcessorKind.Audio, parseResult.GetValue(audio)!),
                (ProcessorKind.Chat, parseResult.GetValue(chat)!),
            };
            return await RunCommand.RunAsync(options, parseResult.InvocationConfiguration.Error, async (_, _) =>
            {
                var hosts = new List<ProcessorHost>();
                foreach (var (kind, endpoint) in backends)
                {
                    var host = await ProcessorHost.StartAsync(kind, endpoint, cancellationToken).ConfigureAwait(false);
                    hosts.Add(host);
                    await Console.Out.WriteLineAsync($"switchyard: {kind} processor on {host.BaseAddress} ({host.ProcessPath}, /stats)").ConfigureAwait(false);
                }

                return new Processors(hosts);
            }, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    private sealed class Processors(List<ProcessorHost> hosts) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            foreach (var host in hosts)
            {
                await host.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}
