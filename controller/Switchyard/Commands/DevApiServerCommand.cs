using System.CommandLine;
using System.Net;
using Switchyard.Kubernetes.DevApiServer;

namespace Switchyard.Cli;

/// <summary>
/// <c>switchyard dev-apiserver</c>: runs the in-process Kubernetes API server double over plain HTTP until Ctrl+C
/// or SIGTERM, for trying the controller and <c>kubectl</c> without a cluster.
/// </summary>
internal static class DevApiServerCommand
{
    public static Command Create()
    {
        var listen = new Option<string>("--listen")
        {
            Description = "Address to listen on, host:port (port 0 picks a free port).",
            DefaultValueFactory = _ => "127.0.0.1:6443",
        };
        var kubeconfig = new Option<string?>("--write-kubeconfig")
        {
            Description = "Write a kubeconfig pointing at the server to this file once it listens.",
        };
        var historyCapacity = new Option<int>("--history-capacity")
        {
            Description = "Watch events kept; a watch from an older resourceVersion gets 410 Expired.",
            DefaultValueFactory = _ => 1000,
            Hidden = true,
        };
        var logRequests = new Option<bool>("--log-requests")
        {
            Description = "Log one line per request to stderr.",
            Hidden = true,
        };
        var controlStdin = new Option<bool>("--control-stdin")
        {
            Description = "Read test commands from stdin, one per line: expire-history, pause-watches, resume-watches.",
            Hidden = true,
        };

        var command = new Command("dev-apiserver", "Run an in-memory stand-in for the Kubernetes API server (development and tests only; no authentication).")
        {
            listen,
            kubeconfig,
            historyCapacity,
            logRequests,
            controlStdin,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var error = parseResult.InvocationConfiguration.Error;
            var text = parseResult.GetValue(listen)!;
            if (!IPEndPoint.TryParse(text, out var endpoint))
            {
                await error.WriteLineAsync($"--listen: '{text}' is not host:port with a numeric IP address").ConfigureAwait(false);
                return 2;
            }

            var log = parseResult.GetValue(logRequests) ? (Action<string>)(line => Console.Error.WriteLine($"request {line}")) : null;
            await using var server = new DevApiServer(new DevApiServerOptions
            {
                HistoryCapacity = parseResult.GetValue(historyCapacity),
                Log = log,
            });
            await server.StartAsync(endpoint, cancellationToken).ConfigureAwait(false);
            await error.WriteLineAsync($"dev-apiserver listening on {server.BaseAddress}").ConfigureAwait(false);
            if (parseResult.GetValue(kubeconfig) is { } path)
            {
                // Written whole and renamed, so a reader polling for the file never sees half of it.
                var temp = path + ".tmp";
                await File.WriteAllTextAsync(temp, server.KubeconfigText, cancellationToken).ConfigureAwait(false);
                File.Move(temp, path, overwrite: true);
                await error.WriteLineAsync($"dev-apiserver wrote kubeconfig {path}").ConfigureAwait(false);
            }

            var control = parseResult.GetValue(controlStdin) ? ControlLoopAsync(server, cancellationToken) : Task.CompletedTask;
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Ctrl+C or SIGTERM.
            }

            await control.ConfigureAwait(false);
            await error.WriteLineAsync("dev-apiserver stopped").ConfigureAwait(false);
            return 0;
        });
        return command;
    }

    /// <summary>Test hooks for a double that runs as a separate process: one command per stdin line, answered on stdout.</summary>
    private static async Task ControlLoopAsync(DevApiServer server, CancellationToken cancellationToken)
    {
        try
        {
            while (await Console.In.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
            {
                var reply = line.Trim() switch
                {
                    "expire-history" => Run(server.ExpireWatchHistory),
                    "pause-watches" => Run(server.PauseWatches),
                    "resume-watches" => Run(server.ResumeWatches),
                    "resource-version" => server.ResourceVersion.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    "" => null,
                    var other => $"error unknown command '{other}'",
                };
                if (reply is not null)
                {
                    Console.Out.WriteLine(reply);
                    Console.Out.Flush();
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Shutting down.
        }
    }

    private static string Run(Action action)
    {
        action();
        return "ok";
    }
}
