using Switchyard.Controller.Providers;
using Switchyard.Controller.Providers.Kubernetes;
using Switchyard.Controller.Provisioning;
using Switchyard.Controller.Status;
using Switchyard.Controller.Translation;
using Switchyard.Kubernetes.Client;
using Switchyard.Kubernetes.LeaderElection;

namespace Switchyard.Controller.Hosting;

/// <summary>
/// The Kubernetes-mode control plane: provider → translator → status writer, with every programmed Gateway's
/// snapshot published on <see cref="Snapshots"/> for the data plane.
/// </summary>
/// <remarks>
/// <list type="number">
/// <item>The <see cref="KubernetesProvider"/> publishes a <see cref="ResourceSnapshot"/> after every burst of changes.</item>
/// <item>Each snapshot is translated (a pure function); the Gateway snapshots go to <see cref="Snapshots"/> on every
/// replica, leader or not, because every replica's data plane serves traffic.</item>
/// <item>The latest translation is handed to the status writer, which runs only while this replica leads (or always,
/// without leader election). Before it, the provisioner (when enabled) makes each accepted Gateway's Service match the
/// translation; the load balancer's answer comes back through the provider as a Service change. A failed write is
/// retried with backoff; a newer translation supersedes it.</item>
/// </list>
/// </remarks>
public sealed class ControllerHost
{
    private readonly ControllerHostOptions options;
    private readonly KubernetesClient client;
    private readonly KubernetesProvider provider;
    private readonly StatusWriter writer;
    private readonly GatewayProvisioner? provisioner;
    private readonly SemaphoreSlim pending = new(0, 1);
    private Translated? latest;
    private volatile bool isLeader;
    private long translations;

    /// <summary>Creates a host over a client; nothing happens until <see cref="RunAsync"/>.</summary>
    /// <param name="client">The API client.</param>
    /// <param name="options">Options, or null for defaults.</param>
    public ControllerHost(KubernetesClient client, ControllerHostOptions? options = null)
    {
        this.client = client ?? throw new ArgumentNullException(nameof(client));
        this.options = options ?? new ControllerHostOptions();
        provider = new KubernetesProvider(client, new KubernetesProviderOptions
        {
            Debounce = this.options.Debounce,
            WatchTimeout = this.options.WatchTimeout,
            OnError = (type, ex) => Log(ControllerLogLevel.Warning, $"watch of {type.Plural}.{type.Group} failed; retrying: {ex.Message}", null),
        });
        writer = new StatusWriter(client, new StatusWriterOptions
        {
            ControllerName = this.options.Translator.ControllerName,
            TimeProvider = this.options.TimeProvider,
            OnWritten = line => Log(ControllerLogLevel.Information, line, null),
            OnError = (line, ex) => Log(ControllerLogLevel.Warning, $"{line}: {ex.Message}", null),
        });
        provisioner = this.options.Provisioning is { } provisioning
            ? new GatewayProvisioner(client, provisioning, (line, ex) => Log(ex is null ? ControllerLogLevel.Information : ControllerLogLevel.Warning, ex is null ? line : $"{line}: {ex.Message}", null))
            : null;
        Snapshots.ObserverFailed += ex => Log(ControllerLogLevel.Error, "a snapshot subscriber threw", ex);
        provider.SnapshotPublished += OnResourceSnapshot;
    }

    /// <summary>
    /// The data-plane seam: the current <c>GatewaySnapshot</c> of every programmed Gateway and a stream of changes.
    /// Subscribe before or after <see cref="RunAsync"/>; a late subscriber first receives the current snapshots.
    /// </summary>
    public GatewaySnapshotPublisher Snapshots { get; } = new();

    /// <summary>True while this replica writes status (always true once running without leader election).</summary>
    public bool IsLeader => isLeader;

    /// <summary>How many resource snapshots have been translated.</summary>
    public long TranslationCount => Interlocked.Read(ref translations);

    /// <summary>The latest translation, or null before the first one.</summary>
    public TranslationResult? LatestTranslation => Volatile.Read(ref latest)?.Result;

    /// <summary>Total statuses this replica has written.</summary>
    public long StatusWriteCount => writer.WriteCount;

    /// <summary>Total lists done by the informers (more than one per kind means watches expired and were relisted).</summary>
    public int InformerListCount => provider.ListCount;

    /// <summary>Runs the control plane until <paramref name="cancellationToken"/> is cancelled.</summary>
    /// <param name="cancellationToken">Stops the controller (and releases the Lease when leading).</param>
    /// <returns>Completes when stopped.</returns>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        Log(ControllerLogLevel.Information, $"controller {options.Translator.ControllerName} starting against {client.Configuration.Server}", null);
        var providerTask = provider.RunAsync(cancellationToken);
        var statusTask = options.LeaderElection is { } election
            ? CampaignAsync(election, cancellationToken)
            : LeadAsync(cancellationToken);
        try
        {
            await Task.WhenAll(providerTask, statusTask).ConfigureAwait(false);
        }
        finally
        {
            Snapshots.Complete();
            Log(ControllerLogLevel.Information, "controller stopped", null);
        }
    }

    private void OnResourceSnapshot(ResourceSnapshot snapshot)
    {
        // :: Step 2
        TranslationResult result;
        try
        {
            result = Translator.Translate(snapshot, options.Translator);
        }
#pragma warning disable CA1031 // A translator bug must not stop the provider; the last good snapshots stay published.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log(ControllerLogLevel.Error, "translation failed; keeping the last published snapshots", ex);
            return;
        }

        Interlocked.Increment(ref translations);
        Snapshots.Publish(result.Snapshots);

        // :: Step 3
        Volatile.Write(ref latest, new Translated(snapshot, result));
        Signal();
    }

    private void Signal()
    {
        try
        {
            pending.Release();
        }
        catch (SemaphoreFullException)
        {
            // A pass is already pending; it reads the latest translation.
        }
    }

    private async Task CampaignAsync(LeaderElectionOptions election, CancellationToken cancellationToken)
    {
        var elector = new LeaderElector(client.Resource(ResourceType.Leases), new LeaderElectionConfig
        {
            LeaseName = election.LeaseName,
            LeaseNamespace = election.LeaseNamespace,
            Identity = election.Identity,
            LeaseDuration = election.LeaseDuration,
            RenewDeadline = election.RenewDeadline,
            RetryPeriod = election.RetryPeriod,
            OnStartedLeading = LeadAsync,
            OnNewLeader = holder => Log(ControllerLogLevel.Information, holder == election.Identity
                ? $"leader election: {holder} (this replica) holds lease {election.LeaseNamespace}/{election.LeaseName}"
                : $"leader election: {holder} holds lease {election.LeaseNamespace}/{election.LeaseName}; this replica ({election.Identity}) stands by", null),
        });
        Log(ControllerLogLevel.Information, $"leader election: {election.Identity} campaigning for lease {election.LeaseNamespace}/{election.LeaseName}", null);
        while (!cancellationToken.IsCancellationRequested)
        {
            await elector.RunAsync(cancellationToken).ConfigureAwait(false);
            if (!cancellationToken.IsCancellationRequested)
            {
                Log(ControllerLogLevel.Warning, $"leader election: {election.Identity} lost the lease; campaigning again", null);
            }
        }
    }

    /// <summary>Writes statuses while <paramref name="leading"/> is not cancelled.</summary>
    private async Task LeadAsync(CancellationToken leading)
    {
        isLeader = true;
        Log(ControllerLogLevel.Information, "writing status (leader)", null);
        var backoff = options.StatusRetryBackoff;
        try
        {
            // A new leader writes the latest translation at once: the previous leader may have left it unwritten.
            var due = Volatile.Read(ref latest) is not null;
            while (!leading.IsCancellationRequested)
            {
                if (!due)
                {
                    await pending.WaitAsync(leading).ConfigureAwait(false);
                }

                if (Volatile.Read(ref latest) is not { } work)
                {
                    due = false;
                    continue;
                }

                var provisioned = provisioner is null
                    ? default
                    : await provisioner.ReconcileAsync(work.Result, work.Snapshot, leading).ConfigureAwait(false);
                var report = await writer.WriteAsync(work.Snapshot, work.Result.Statuses, leading).ConfigureAwait(false);
                if (report.Failed == 0 && provisioned.Failed == 0)
                {
                    backoff = options.StatusRetryBackoff;
                    due = false;
                    continue;
                }

                // Retry after a backoff, or sooner when a newer translation arrives.
                await pending.WaitAsync(backoff, leading).ConfigureAwait(false);
                due = true;
                backoff = TimeSpan.FromTicks(Math.Min(TimeSpan.FromSeconds(30).Ticks, backoff.Ticks * 2));
            }
        }
        catch (OperationCanceledException) when (leading.IsCancellationRequested)
        {
            // Leadership ended or the controller is stopping.
        }
        finally
        {
            isLeader = false;
            Log(ControllerLogLevel.Information, "stopped writing status", null);
        }
    }

    private sealed record Translated(ResourceSnapshot Snapshot, TranslationResult Result);

    private void Log(ControllerLogLevel level, string message, Exception? exception) => options.Log?.Invoke(level, message, exception);
}
