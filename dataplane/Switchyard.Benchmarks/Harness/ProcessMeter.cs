using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Switchyard.Benchmarks.Harness;

/// <summary>
/// CPU time and memory of processes on Linux: a live process from /proc/PID/stat and /proc/PID/status, reaped children
/// from getrusage.
/// </summary>
internal static partial class ProcessMeter
{
    private const int ScClockTicks = 2;      // _SC_CLK_TCK
    private const int RusageChildren = -1;   // RUSAGE_CHILDREN

    private static readonly double TicksPerSecond = Math.Max(1, Sysconf(ScClockTicks));

    /// <summary>User + system CPU seconds a live process has used so far (fields 14 and 15 of /proc/PID/stat).</summary>
    public static double CpuSeconds(int pid) => ParseCpu(File.ReadAllText($"/proc/{pid}/stat"));

    private static double CpuSeconds(int pid, int tid) => ParseCpu(File.ReadAllText($"/proc/{pid}/task/{tid}/stat"));

    private static double ParseCpu(string stat)
    {
        // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var user = long.Parse(fields[11], CultureInfo.InvariantCulture);
        var system = long.Parse(fields[12], CultureInfo.InvariantCulture);
        return (user + system) / TicksPerSecond;
    }

    /// <summary>User + system CPU seconds of a process and of its live children (nginx's master and its workers).</summary>
    public static double TreeCpuSeconds(int pid) => TreePids(pid).Sum(p => TryCpuSeconds(p));

    /// <summary>
    /// CPU seconds per thread of a live process, keyed by thread ID and name (/proc/PID/task/TID/stat and comm), so a
    /// delta between two snapshots shows which threads did the work.
    /// </summary>
    public static Dictionary<(int Tid, string Name), double> ThreadCpuSeconds(int pid)
    {
        var threads = new Dictionary<(int, string), double>();
        try
        {
            foreach (var task in Directory.GetDirectories($"/proc/{pid}/task"))
            {
                try
                {
                    var tid = int.Parse(Path.GetFileName(task), CultureInfo.InvariantCulture);
                    threads[(tid, File.ReadAllText(Path.Combine(task, "comm")).Trim())] = CpuSeconds(pid, tid);
                }
                catch (IOException)
                {
                    // The thread ended between listing and reading.
                }
            }
        }
        catch (IOException)
        {
        }

        return threads;
    }

    /// <summary>CPU seconds per thread name between two <see cref="ThreadCpuSeconds"/> snapshots, busiest first.</summary>
    public static List<(string Name, int Threads, double CpuSeconds)> ThreadDelta(Dictionary<(int Tid, string Name), double> before, Dictionary<(int Tid, string Name), double> after) =>
        after.GroupBy(t => t.Key.Name)
            .Select(g => (g.Key, g.Count(), g.Sum(t => t.Value - before.GetValueOrDefault(t.Key))))
            .OrderByDescending(t => t.Item3)
            .ToList();

    /// <summary>Resident set size in bytes (VmRSS of /proc/PID/status), or 0 when the process is gone.</summary>
    public static long RssBytes(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    var kb = line["VmRSS:".Length..].Trim().Split(' ')[0];
                    return long.Parse(kb, CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (IOException)
        {
        }

        return 0;
    }

    /// <summary>Resident set size of a process and its live children.</summary>
    public static long TreeRssBytes(int pid) => TreePids(pid).Sum(RssBytes);

    /// <summary>The process and its direct children (from /proc/PID/task/*/children).</summary>
    public static IReadOnlyList<int> TreePids(int pid)
    {
        var pids = new List<int> { pid };
        try
        {
            foreach (var task in Directory.GetDirectories($"/proc/{pid}/task"))
            {
                var children = File.ReadAllText(Path.Combine(task, "children"));
                pids.AddRange(children.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(c => int.Parse(c, CultureInfo.InvariantCulture)));
            }
        }
        catch (IOException)
        {
        }

        return pids.Distinct().ToList();
    }

    private static double TryCpuSeconds(int pid)
    {
        try
        {
            return CpuSeconds(pid);
        }
        catch (IOException)
        {
            return 0;
        }
    }

    /// <summary>User + system CPU seconds of every child this process has waited for (getrusage RUSAGE_CHILDREN).</summary>
    public static double ReapedChildrenCpuSeconds()
    {
        var usage = default(RUsage);
        if (GetRUsage(RusageChildren, ref usage) != 0)
        {
            return double.NaN;
        }

        return usage.UserSeconds + usage.UserMicros / 1e6 + usage.SystemSeconds + usage.SystemMicros / 1e6;
    }

    [LibraryImport("libc", EntryPoint = "sysconf")]
    private static partial long Sysconf(int name);

    [LibraryImport("libc", EntryPoint = "getrusage")]
    private static partial int GetRUsage(int who, ref RUsage usage);

    /// <summary>struct rusage on 64-bit Linux: two timevals, then fourteen longs.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct RUsage
    {
        public long UserSeconds;
        public long UserMicros;
        public long SystemSeconds;
        public long SystemMicros;
        public unsafe fixed long Rest[14];
    }
}

/// <summary>A child process whose output is kept for error messages.</summary>
internal sealed class ChildProcess : IDisposable
{
    private readonly System.Text.StringBuilder _output = new();

    public ChildProcess(string file, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment.Remove("TESTCASE");
        info.Environment.Remove("SSLKEYLOGFILE");
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        Process = new Process { StartInfo = info };
        Process.OutputDataReceived += (_, e) => Append(e.Data);
        Process.ErrorDataReceived += (_, e) => Append(e.Data);
        Process.Start();
        Process.BeginOutputReadLine();
        Process.BeginErrorReadLine();
    }

    public Process Process { get; }

    public string Output
    {
        get { lock (_output) { return _output.ToString(); } }
    }

    public void Dispose()
    {
        try
        {
            if (!Process.HasExited)
            {
                Process.Kill(entireProcessTree: true);
                Process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
        }

        Process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            if (_output.Length < 64 * 1024)
            {
                _output.Append(line).Append('\n');
            }
        }
    }
}
