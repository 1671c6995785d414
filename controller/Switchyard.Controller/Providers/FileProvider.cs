using Switchyard.Api.Meta;

namespace Switchyard.Controller.Providers;

/// <summary>The outcome of loading a manifest directory: a snapshot when every file decoded, errors otherwise.</summary>
/// <param name="Snapshot">The snapshot, or null when there were errors.</param>
/// <param name="Errors">Every error found, sorted by file and line.</param>
public sealed record ManifestLoadResult(ResourceSnapshot? Snapshot, IReadOnlyList<ManifestError> Errors)
{
    /// <summary>Whether the directory loaded without errors.</summary>
    public bool Succeeded => Snapshot is not null;
}

/// <summary>
/// Standalone-mode provider: reads every <c>*.yaml</c> and <c>*.yml</c> file of a directory (recursively,
/// multi-document, strictly decoded) into a <see cref="ResourceSnapshot"/>, watches the directory, and publishes a
/// new snapshot only when everything decodes; otherwise it reports the errors and keeps the last good snapshot.
/// </summary>
public sealed class FileProvider : IDisposable
{
    private readonly string directory;
    private readonly TimeSpan debounce;
    private readonly Lock gate = new();
    private FileSystemWatcher? watcher;
    private Timer? timer;
    private ResourceSnapshot? current;
    private int disposed;

    /// <summary>Creates a provider for a directory.</summary>
    /// <param name="directory">Directory holding manifests.</param>
    /// <param name="debounce">Quiet time after the last change before reloading; defaults to 200 ms.</param>
    public FileProvider(string directory, TimeSpan? debounce = null)
    {
        this.directory = Path.GetFullPath(directory);
        this.debounce = debounce ?? TimeSpan.FromMilliseconds(200);
    }

    /// <summary>Raised with each newly published snapshot.</summary>
    public event Action<ResourceSnapshot>? SnapshotPublished;

    /// <summary>Raised when a load failed; the last good snapshot stays current.</summary>
    public event Action<IReadOnlyList<ManifestError>>? LoadFailed;

    /// <summary>The last good snapshot, or null before the first successful load.</summary>
    public ResourceSnapshot? Current => Volatile.Read(ref current);

    /// <summary>Reads every manifest of a directory.</summary>
    /// <param name="directory">Directory.</param>
    /// <returns>The result.</returns>
    public static ManifestLoadResult LoadDirectory(string directory)
    {
        var errors = new List<ManifestError>();
        var objects = new List<KubernetesObject>();
        if (!Directory.Exists(directory))
        {
            return new ManifestLoadResult(null, [new ManifestError(directory, 0, null, null, "directory does not exist")]);
        }

        var files = Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".yml", StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal);
        var seen = new Dictionary<(string, string, string), string>();
        foreach (var file in files)
        {
            string text;
            try
            {
                var info = new FileInfo(file);
                if (info.Length > ManifestDecoder.MaxFileBytes)
                {
                    errors.Add(new ManifestError(file, 0, null, null, $"file is larger than {ManifestDecoder.MaxFileBytes} bytes"));
                    continue;
                }

                text = File.ReadAllText(file);
            }
            catch (IOException e)
            {
                errors.Add(new ManifestError(file, 0, null, null, $"cannot read: {e.Message}"));
                continue;
            }
            catch (UnauthorizedAccessException e)
            {
                errors.Add(new ManifestError(file, 0, null, null, $"cannot read: {e.Message}"));
                continue;
            }

            foreach (var o in ManifestDecoder.Decode(file, text, errors))
            {
                var key = (ResourceSnapshot.KindOf(o), o.Metadata.Namespace ?? "", o.Metadata.Name ?? "");
                if (seen.TryGetValue(key, out var first))
                {
                    var label = $"{key.Item1} {(key.Item2.Length == 0 ? "" : key.Item2 + "/")}{key.Item3}";
                    errors.Add(new ManifestError(file, 0, label, null, $"is also defined in {first}"));
                    continue;
                }

                seen[key] = file;
                objects.Add(o);
            }
        }

        return errors.Count > 0
            ? new ManifestLoadResult(null, errors)
            : new ManifestLoadResult(ResourceSnapshot.Create(objects), []);
    }

    /// <summary>Loads the directory now, then watches it for changes.</summary>
    /// <returns>The result of the first load.</returns>
    public ManifestLoadResult Start()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref disposed) != 0, this);
        var result = Reload();
        lock (gate)
        {
            timer = new Timer(_ => Reload(), null, Timeout.Infinite, Timeout.Infinite);
            watcher = new FileSystemWatcher(directory)
            {
                IncludeSubdirectories = true,
                NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size,
            };
            watcher.Changed += OnChange;
            watcher.Created += OnChange;
            watcher.Deleted += OnChange;
            watcher.Renamed += OnChange;
            watcher.EnableRaisingEvents = true;
        }

        return result;
    }

    /// <summary>Loads the directory now and publishes the snapshot when it succeeds.</summary>
    /// <returns>The result.</returns>
    public ManifestLoadResult Reload()
    {
        ManifestLoadResult result;
        lock (gate)
        {
            result = LoadDirectory(directory);
            if (result.Snapshot is { } snapshot)
            {
                Volatile.Write(ref current, snapshot);
            }
        }

        // Handlers run outside the lock; a throwing handler must not stop the watcher.
        try
        {
            if (result.Snapshot is { } published)
            {
                SnapshotPublished?.Invoke(published);
            }
            else
            {
                LoadFailed?.Invoke(result.Errors);
            }
        }
#pragma warning disable CA1031 // A subscriber's failure is theirs; the provider keeps watching.
        catch (Exception)
#pragma warning restore CA1031
        {
        }

        return result;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        lock (gate)
        {
            watcher?.Dispose();
            timer?.Dispose();
        }
    }

    private void OnChange(object sender, FileSystemEventArgs e)
    {
        // Editors write files in several steps; wait until the directory is quiet, then reload once.
        lock (gate)
        {
            if (Volatile.Read(ref disposed) == 0)
            {
                timer?.Change(debounce, Timeout.InfiniteTimeSpan);
            }
        }
    }
}
