using System.CommandLine;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Switchyard.Cli.Interop;
using Switchyard.Quic.Udp;
using Switchyard.Tls;

namespace Switchyard.Cli;

/// <summary>
/// <c>switchyard interop server|client</c>: the QUIC Interop Runner endpoint over the managed QUIC stack. The test case
/// comes from <c>--testcase</c> or <c>TESTCASE</c>; 127 means unsupported; TLS secrets go to <c>SSLKEYLOGFILE</c>.
/// </summary>
internal static class InteropCommand
{
    public static Command Create()
    {
        var command = new Command("interop", "QUIC Interop Runner endpoint: an HTTP/3 file server and downloader over the managed QUIC stack.")
        {
            CreateServer(),
            CreateClient(),
        };
        return command;
    }

    private static Option<string?> TestCaseOption() =>
        new("--testcase") { Description = "Interop runner test case (default: $TESTCASE). Exit code 127 when unsupported." };

    private static Command CreateServer()
    {
        var listen = new Option<string>("--listen") { Description = "UDP ADDRESS:PORT to listen on (port 0 picks one; the chosen one is printed).", DefaultValueFactory = _ => "0.0.0.0:443" };
        var www = new Option<DirectoryInfo>("--www") { Description = "Folder whose files are served.", Required = true };
        var cert = new Option<FileInfo>("--cert") { Description = "PEM certificate (chain).", Required = true };
        var key = new Option<FileInfo>("--key") { Description = "PEM private key.", Required = true };
        var testCase = TestCaseOption();
        var command = new Command("server", "Serve --www over HTTP/3 (ALPN h3) until interrupted.") { listen, www, cert, key, testCase };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var error = parseResult.InvocationConfiguration.Error;
            var name = InteropTestCases.Resolve(parseResult.GetValue(testCase));
            if (!InteropTestCases.ServerSupports(name))
            {
                await error.WriteLineAsync($"interop server: test case '{name}' is not supported").ConfigureAwait(false);
                return InteropTestCases.Unsupported;
            }

            if (!TryParseEndPoint(parseResult.GetValue(listen)!, out var endPoint))
            {
                await error.WriteLineAsync($"interop server: --listen '{parseResult.GetValue(listen)}' is not ADDRESS:PORT").ConfigureAwait(false);
                return 1;
            }

            X509Certificate2 certificate;
            try
            {
                certificate = TlsCertificates.LoadPem(parseResult.GetValue(cert)!.FullName, parseResult.GetValue(key)!.FullName);
            }
            catch (Exception e) when (e is IOException or System.Security.Cryptography.CryptographicException or ArgumentException)
            {
                await error.WriteLineAsync($"interop server: cannot load the certificate: {e.Message}").ConfigureAwait(false);
                return 1;
            }

            using (certificate)
            {
                var server = new InteropServer(new InteropServerOptions
                {
                    ListenEndPoint = endPoint,
                    WwwRoot = parseResult.GetValue(www)!.FullName,
                    Certificate = certificate,
                    TestCase = name,
                    KeyLogFile = KeyLogFile(),
                }, error);
                return await server.RunAsync(ManagedQuicTransport.Instance, parseResult.InvocationConfiguration.Output, cancellationToken).ConfigureAwait(false);
            }
        });
        return command;
    }

    private static Command CreateClient()
    {
        var downloads = new Option<DirectoryInfo>("--downloads") { Description = "Folder the files are written to, named by URL path.", Required = true };
        var ca = new Option<FileInfo?>("--ca") { Description = "PEM root the server certificate must chain to; without it the certificate is not checked (interop runner style)." };
        var timeout = new Option<int>("--timeout") { Description = "Seconds the whole run may take.", DefaultValueFactory = _ => 300 };
        var testCase = TestCaseOption();
        var urls = new Argument<string[]>("URL") { Description = "https URLs to download (default: $REQUESTS, space separated).", Arity = ArgumentArity.ZeroOrMore };
        var command = new Command("client", "Download URLs over HTTP/3 (ALPN h3), all at once on one connection per server.") { downloads, ca, timeout, testCase, urls };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var error = parseResult.InvocationConfiguration.Error;
            var name = InteropTestCases.Resolve(parseResult.GetValue(testCase));
            if (!InteropTestCases.ClientSupports(name))
            {
                await error.WriteLineAsync($"interop client: test case '{name}' is not supported").ConfigureAwait(false);
                return InteropTestCases.Unsupported;
            }

            var given = parseResult.GetValue(urls) is { Length: > 0 } list
                ? list
                : (Environment.GetEnvironmentVariable("REQUESTS") ?? string.Empty).Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var parsed = new List<Uri>();
            foreach (var text in given)
            {
                if (!Uri.TryCreate(text, UriKind.Absolute, out var uri))
                {
                    await error.WriteLineAsync($"interop client: '{text}' is not a URL").ConfigureAwait(false);
                    return 1;
                }

                parsed.Add(uri);
            }

            if (parsed.Count == 0)
            {
                await error.WriteLineAsync("interop client: no URLs (pass them as arguments or in REQUESTS)").ConfigureAwait(false);
                return 1;
            }

            X509Certificate2? root = null;
            if (parseResult.GetValue(ca) is { } caFile)
            {
                try
                {
                    root = X509CertificateLoader.LoadCertificateFromFile(caFile.FullName);
                }
                catch (Exception e) when (e is IOException or System.Security.Cryptography.CryptographicException)
                {
                    await error.WriteLineAsync($"interop client: cannot load --ca: {e.Message}").ConfigureAwait(false);
                    return 1;
                }
            }

            using (root)
            {
                var client = new InteropClient(new InteropClientOptions
                {
                    Urls = parsed,
                    DownloadDirectory = parseResult.GetValue(downloads)!.FullName,
                    TrustedRoot = root,
                    TestCase = name,
                    KeyLogFile = KeyLogFile(),
                    Timeout = TimeSpan.FromSeconds(Math.Max(1, parseResult.GetValue(timeout))),
                }, error);
                return await client.RunAsync(ManagedQuicTransport.Instance, cancellationToken).ConfigureAwait(false);
            }
        });
        return command;
    }

    private static string? KeyLogFile() => Environment.GetEnvironmentVariable("SSLKEYLOGFILE") is { Length: > 0 } path ? path : null;

    /// <summary>Parses <c>1.2.3.4:443</c>, <c>[::1]:443</c> or <c>*:443</c>.</summary>
    internal static bool TryParseEndPoint(string text, out IPEndPoint endPoint)
    {
        if (text.StartsWith("*:", StringComparison.Ordinal))
        {
            text = "[::]" + text[1..];
        }

        return IPEndPoint.TryParse(text, out endPoint!) && text.Contains(':', StringComparison.Ordinal);
    }
}
