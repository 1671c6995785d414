using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

using Xunit.Abstractions;

namespace Switchyard.Tests.EndToEnd;

/// <summary>
/// Runs Debian's Chromium headless on a page, with fake camera and microphone, and collects the JSON the page POSTs to
/// a local endpoint when it is done (a dependable pattern: <c>--dump-dom</c> returns before long async work ends).
/// </summary>
internal static class Chromium
{
    public const string Executable = "/usr/bin/chromium";

    public static async Task<JsonObject> RunPageAsync(Func<Uri, Uri> pageUrlForReport, TimeSpan timeout, ITestOutputHelper output)
    {
        Assert.True(File.Exists(Executable), $"{Executable} is missing: .ci/run installs Debian's chromium package.");
        var report = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        await using var app = builder.Build();
        app.MapPost("/report", async (HttpContext context) =>
        {
            using var reader = new StreamReader(context.Request.Body);
            report.TrySetResult(await reader.ReadToEndAsync());
            return Results.Ok();
        });
        await app.StartAsync();
        var reportUrl = new Uri(new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()), "report");

        var profile = Directory.CreateTempSubdirectory("switchyard-chromium-").FullName;
        var page = pageUrlForReport(reportUrl);
        var start = new ProcessStartInfo(Executable)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        foreach (var arg in new[]
        {
            "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-default-apps", "--mute-audio",
            "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream", "--autoplay-policy=no-user-gesture-required",
            $"--user-data-dir={profile}", "--remote-debugging-port=0", page.ToString(),
        })
        {
            start.ArgumentList.Add(arg);
        }

        output.WriteLine($"chromium {page}");
        using var process = Process.Start(start)!;
        var stderr = new System.Text.StringBuilder();
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null && !e.Data.Contains("dbus", StringComparison.OrdinalIgnoreCase))
            {
                lock (stderr)
                {
                    stderr.AppendLine(e.Data);
                }
            }
        };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        try
        {
            var body = await report.Task.WaitAsync(timeout);
            output.WriteLine($"report: {body}");
            return JsonNode.Parse(body)!.AsObject();
        }
        catch (TimeoutException)
        {
            lock (stderr)
            {
                Assert.Fail($"Chromium sent no report within {timeout}. Its stderr:\n{stderr}");
            }

            throw;
        }
        finally
        {
            try
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            }
            catch (Exception ex) when (ex is InvalidOperationException or TimeoutException)
            {
                output.WriteLine($"chromium did not exit cleanly: {ex.Message}");
            }

            try
            {
                Directory.Delete(profile, recursive: true);
            }
            catch (IOException)
            {
                // Chromium may still hold a lock file for a moment; the temp folder is cleaned by the OS.
            }
        }
    }
}
