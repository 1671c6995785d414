using System.Diagnostics;
using System.Text;

namespace Switchyard.Controller.Tests.Integration;

/// <summary>Process-level tests run one at a time: they time status changes, and two cores are shared.</summary>
[CollectionDefinition(Name)]
public sealed class ProcessCollection
{
    public const string Name = "switchyard processes";
}

/// <summary>The repository and the built <c>switchyard</c> binary.</summary>
internal static class Repo
{
    private static readonly Lock BuildGate = new();
    private static string? built;

    /// <summary>The directory holding Controller.sln, found by walking up from the test assembly.</summary>
    public static string Root { get; } = FindRoot();

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    /// <summary>
    /// <c>controller/Switchyard/bin/Release/net10.0/switchyard.dll</c>, built first when it is missing (the test project
    /// cannot reference an executable project). Building the solution, as CI does, builds it; after changing the
    /// controller without rebuilding it, set <c>SWITCHYARD_TEST_REBUILD=1</c> to have the tests rebuild it.
    /// </summary>
    public static string SwitchyardDll
    {
        get
        {
            lock (BuildGate)
            {
                if (built is not null)
                {
                    return built;
                }

                var dll = Path("controller", "Switchyard", "bin", "Release", "net10.0", "switchyard.dll");
                if (!File.Exists(dll) || Environment.GetEnvironmentVariable("SWITCHYARD_TEST_REBUILD") == "1")
                {
                    var (code, output) = Run("dotnet", ["build", Path("controller", "Switchyard", "Switchyard.csproj"), "-c", "Release", "-nologo", "-v", "q"], TimeSpan.FromMinutes(10));
                    Assert.True(code == 0, $"building switchyard failed:\n{output}");
                }

                built = dll;
                return dll;
            }
        }
    }

    /// <summary>Runs a short command to completion and returns its exit code and combined output.</summary>
    public static (int Code, string Output) Run(string file, IEnumerable<string> args, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            return (-1, $"timed out after {timeout}");
        }

        p.WaitForExit();
        return (p.ExitCode, stdout.Result + stderr.Result);
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Controller.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Controller.sln not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>A long-running <c>dotnet switchyard.dll ...</c> child whose output lines are collected.</summary>
internal sealed class SwitchyardProcess : IDisposable
{
    private readonly Process process;
    private readonly List<string> stderr = [];
    private readonly List<string> stdout = [];
    private readonly Lock gate = new();

    public SwitchyardProcess(string name, params string[] args)
    {
        Name = name;
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(Repo.SwitchyardDll);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        process = new Process { StartInfo = psi };
        process.ErrorDataReceived += (_, e) => Add(stderr, e.Data);
        process.OutputDataReceived += (_, e) => Add(stdout, e.Data);
        process.Start();
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
    }

    public string Name { get; }

    public bool HasExited => process.HasExited;

    public IReadOnlyList<string> StderrLines()
    {
        lock (gate)
        {
            return [.. stderr];
        }
    }

    public int CountStderr(Func<string, bool> predicate) => StderrLines().Count(predicate);

    /// <summary>Sends one line on stdin and waits for the next stdout line.</summary>
    public async Task<string> CommandAsync(string line, TimeSpan timeout)
    {
        int before;
        lock (gate)
        {
            before = stdout.Count;
        }

        await process.StandardInput.WriteLineAsync(line);
        await process.StandardInput.FlushAsync();
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            lock (gate)
            {
                if (stdout.Count > before)
                {
                    return stdout[before];
                }
            }

            await Task.Delay(20);
        }

        throw new TimeoutException($"{Name}: no answer to '{line}'\n{Describe()}");
    }

    public async Task WaitForStderrAsync(Func<string, bool> predicate, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (StderrLines().Any(predicate))
            {
                return;
            }

            Assert.False(process.HasExited, $"{Name} exited with {(process.HasExited ? process.ExitCode : 0)}\n{Describe()}");
            await Task.Delay(50);
        }

        Assert.Fail($"{Name}: expected log line did not appear within {timeout}\n{Describe()}");
    }

    /// <summary>SIGKILL: the process gets no chance to release anything (a crashed or partitioned replica).</summary>
    public void Kill()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(10_000);
        }
    }

    public string Describe()
    {
        var lines = StderrLines();
        return $"--- {Name} stderr (last 40 of {lines.Count}) ---\n" + string.Join('\n', lines.TakeLast(40));
    }

    public void Dispose()
    {
        Kill();
        process.Dispose();
    }

    private void Add(List<string> lines, string? line)
    {
        if (line is not null)
        {
            lock (gate)
            {
                lines.Add(line);
            }
        }
    }
}

/// <summary>
/// <c>switchyard dev-apiserver</c> as a process, with the project's minimal Gateway API CRDs, the WebTransportRoute CRD
/// and the GatewayClass applied by the real kubectl.
/// </summary>
internal sealed class DevApiServerProcess : IDisposable
{
    private const string KubectlPath = "/usr/bin/kubectl";
    private readonly string dir = Directory.CreateTempSubdirectory("switchyard-it-").FullName;

    private DevApiServerProcess()
    {
        Kubeconfig = System.IO.Path.Combine(dir, "kubeconfig");
        Server = new SwitchyardProcess("dev-apiserver", "dev-apiserver", "--listen", "127.0.0.1:0", "--write-kubeconfig", Kubeconfig, "--log-requests", "--control-stdin");
    }

    public SwitchyardProcess Server { get; }

    public string Kubeconfig { get; }

    public static async Task<DevApiServerProcess> StartAsync(bool quickstart = true)
    {
        var api = new DevApiServerProcess();
        try
        {
            await api.Server.WaitForStderrAsync(l => l.StartsWith("dev-apiserver wrote kubeconfig", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
            api.Kubectl("apply", "--validate=false", "-f", Repo.Path("config", "gateway", "testing", "gateway-api-crds-minimal.yaml"), "-f", Repo.Path("api", "crds"));
            api.Kubectl("apply", "--validate=false", "-f", Repo.Path("api", "gatewayclass.yaml"));
            if (quickstart)
            {
                api.Kubectl("apply", "--validate=false", "-f", Repo.Path("examples", "quickstart"));
            }

            return api;
        }
        catch
        {
            api.Dispose();
            throw;
        }
    }

    /// <summary>Starts <c>switchyard controller</c> against this server.</summary>
    public SwitchyardProcess StartController(string name, params string[] extra) =>
        new(name, ["controller", "--kubeconfig", Kubeconfig, "--dev-certificates", .. extra]);

    /// <summary>Runs kubectl and returns its stdout; fails the test on a non-zero exit.</summary>
    public string Kubectl(params string[] args)
    {
        var (code, stdout, stderr) = TryKubectl(args);
        Assert.True(code == 0, $"kubectl {string.Join(' ', args)} exited {code}: {stderr}\n{Server.Describe()}");
        return stdout;
    }

    public (int Code, string Stdout, string Stderr) TryKubectl(params string[] args)
    {
        var psi = new ProcessStartInfo(KubectlPath) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("--kubeconfig");
        psi.ArgumentList.Add(Kubeconfig);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(30_000))
        {
            p.Kill(entireProcessTree: true);
            return (-1, "", "kubectl timed out");
        }

        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary><c>kubectl get KIND NAME -o jsonpath=PATH</c>; empty when the object or field does not exist.</summary>
    public string JsonPath(string kind, string name, string path)
    {
        var (code, stdout, _) = TryKubectl("get", kind, name, "-o", $"jsonpath={path}");
        return code == 0 ? stdout.Trim() : "";
    }

    /// <summary>A condition's field from <c>.status.conditions</c>, or from <c>.status.parents[0].conditions</c> for routes.</summary>
    public string Condition(string kind, string name, string type, string field = "status", bool route = false) =>
        JsonPath(kind, name, route
            ? $"{{.status.parents[?(@.controllerName==\"switchyard.dev/gateway-controller\")].conditions[?(@.type==\"{type}\")].{field}}}"
            : $"{{.status.conditions[?(@.type==\"{type}\")].{field}}}");

    public void Dispose()
    {
        Server.Dispose();
        try
        {
            Directory.Delete(dir, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }
}

/// <summary>Polling with a deadline.</summary>
internal static class Eventually
{
    public static async Task<TimeSpan> TrueAsync(Func<bool> condition, TimeSpan timeout, Func<string> describe, TimeSpan? poll = null)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < timeout)
        {
            if (condition())
            {
                return watch.Elapsed;
            }

            await Task.Delay(poll ?? TimeSpan.FromMilliseconds(100));
        }

        Assert.Fail($"condition not met within {timeout}\n{describe()}");
        return watch.Elapsed;
    }

    public static string Join(params SwitchyardProcess[] processes)
    {
        var sb = new StringBuilder();
        foreach (var p in processes)
        {
            sb.AppendLine(p.Describe());
        }

        return sb.ToString();
    }
}
