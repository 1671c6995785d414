using System.Diagnostics;

namespace Switchyard.Kubernetes.Tests.Kubectl;

/// <summary>Runs the real kubectl against a kubeconfig, with its HOME and cache inside a test's own folder.</summary>
internal static class KubectlProcess
{
    /// <summary>Where the Debian image has kubectl (1.32).</summary>
    public const string Executable = "/usr/bin/kubectl";

    /// <summary>Runs <c>kubectl --kubeconfig KUBECONFIG --cache-dir HOME/cache ARGS</c>, at most 30 s.</summary>
    public static async Task<(int Code, string Out, string Err)> RunAsync(string home, string kubeconfig, params string[] args)
    {
        var psi = new ProcessStartInfo(Executable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in (string[])["--kubeconfig", kubeconfig, "--cache-dir", Path.Combine(home, "cache"), .. args])
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["HOME"] = home;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await p.WaitForExitAsync(cts.Token);
        return (p.ExitCode, await stdout, await stderr);
    }
}
