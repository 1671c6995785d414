using System.Diagnostics;
using Switchyard.Controller.Tests.Integration;

namespace Switchyard.Tests.DataPlane;

/// <summary>
/// <c>dotnet switchyard.dll ARGS</c> as a child process whose stdout and stderr lines are both collected (the
/// <c>run</c> command reports what it serves on stdout).
/// </summary>
internal sealed class CliProcess : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly Lock _gate = new();

    public CliProcess(string name, params string[] args)
    {
        Name = name;
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Repo.SwitchyardDll);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        _process = new Process { StartInfo = psi };
        _process.OutputDataReceived += (_, e) => Add(e.Data);
        _process.ErrorDataReceived += (_, e) => Add(e.Data);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string Name { get; }

    public IReadOnlyList<string> Lines()
    {
        lock (_gate)
        {
            return [.. _lines];
        }
    }

    /// <summary>Waits for the first line matching <paramref name="predicate"/> and returns it.</summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> predicate, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (Lines().FirstOrDefault(predicate) is { } line)
            {
                return line;
            }

            Assert.False(_process.HasExited, $"{Name} exited with {(_process.HasExited ? _process.ExitCode : 0)}\n{Describe()}");
            await Task.Delay(50);
        }

        Assert.Fail($"{Name}: expected output did not appear within {timeout}\n{Describe()}");
        return string.Empty;
    }

    public string Describe()
    {
        var lines = Lines();
        return $"--- {Name} output (last 60 of {lines.Count}) ---\n" + string.Join('\n', lines.TakeLast(60));
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }

        _process.Dispose();
    }

    private void Add(string? line)
    {
        if (line is not null)
        {
            lock (_gate)
            {
                _lines.Add(line);
            }
        }
    }
}

/// <summary>Reads the data plane's "serving GATEWAY port N (Protocol) tcp://A:P udp://A:P" lines.</summary>
internal static class ServingLine
{
    /// <summary>The TCP and UDP endpoints of a listener port, from a line of <c>run</c> or <c>controller</c> output.</summary>
    public static (System.Net.IPEndPoint Tcp, System.Net.IPEndPoint? Udp) Parse(string line)
    {
        var tcp = line[(line.IndexOf("tcp://", StringComparison.Ordinal) + 6)..].Split(' ')[0];
        var udpAt = line.IndexOf("udp://", StringComparison.Ordinal);
        return (System.Net.IPEndPoint.Parse(tcp), udpAt < 0 ? null : System.Net.IPEndPoint.Parse(line[(udpAt + 6)..].Split(' ')[0]));
    }

    public static Func<string, bool> For(string gateway, int port) =>
        line => line.Contains($"serving {gateway} port {port} ", StringComparison.Ordinal);
}
