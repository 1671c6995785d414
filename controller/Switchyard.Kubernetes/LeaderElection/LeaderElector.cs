using System.Globalization;
using System.Text.Json.Nodes;
using Switchyard.Kubernetes.Client;

namespace Switchyard.Kubernetes.LeaderElection;

/// <summary>Configuration of a <see cref="LeaderElector"/>; defaults are client-go's.</summary>
public sealed record LeaderElectionConfig
{
    /// <summary>The Lease's name.</summary>
    public required string LeaseName { get; init; }

    /// <summary>The Lease's namespace.</summary>
    public required string LeaseNamespace { get; init; }

    /// <summary>This candidate's identity (pod name, for example); must be unique among candidates.</summary>
    public required string Identity { get; init; }

    /// <summary>How long non-leaders wait, after last seeing the record change, before taking over. Default 15 s.</summary>
    public TimeSpan LeaseDuration { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>How long the leader keeps retrying a renewal before giving up leadership. Default 10 s.</summary>
    public TimeSpan RenewDeadline { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How often candidates try to acquire and the leader renews. Default 2 s.</summary>
    public TimeSpan RetryPeriod { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Release the lease (empty holder, leaseDurationSeconds 1) when the run is cancelled while leading.</summary>
    public bool ReleaseOnCancel { get; init; } = true;

    /// <summary>Called once leadership is acquired; its token is cancelled when leadership ends.</summary>
    public Func<CancellationToken, Task>? OnStartedLeading { get; init; }

    /// <summary>Called once leadership ends (lost or released).</summary>
    public Action? OnStoppedLeading { get; init; }

    /// <summary>Called when the observed holder changes.</summary>
    public Action<string>? OnNewLeader { get; init; }

    /// <summary>Clock used for observation times.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Throws when the timings break client-go's rule leaseDuration &gt; renewDeadline &gt; 1.2 × retryPeriod.</summary>
    public void Validate()
    {
        if (LeaseDuration <= RenewDeadline)
        {
            throw new ArgumentException("leaseDuration must be greater than renewDeadline");
        }

        if (RenewDeadline <= RetryPeriod * 1.2)
        {
            throw new ArgumentException("renewDeadline must be greater than 1.2 × retryPeriod");
        }

        if (RetryPeriod <= TimeSpan.Zero)
        {
            throw new ArgumentException("retryPeriod must be positive");
        }
    }
}

/// <summary>
/// Leader election over a <c>coordination.k8s.io/v1</c> Lease, as client-go's leaderelection package does it.
/// </summary>
/// <remarks>
/// <list type="number">
/// <item>Acquire: every retryPeriod (jittered), read the Lease. When its record changed since last seen, note the
/// local time. When someone else holds it and that local time plus its leaseDurationSeconds has not passed, wait.
/// Otherwise write ourselves as holder, conditional on the resourceVersion read (a 409 means someone else won).</item>
/// <item>Lead: run <see cref="LeaderElectionConfig.OnStartedLeading"/>; every retryPeriod renew, retrying until
/// renewDeadline; when a renewal cannot succeed in time, leadership is lost.</item>
/// <item>Stop: cancel the leading callback, release the Lease if asked, call OnStoppedLeading.</item>
/// </list>
/// Expiry is judged from when the record was last seen to change locally, never from renewTime, so clock skew
/// between candidates does not matter.
/// </remarks>
public sealed class LeaderElector
{
    private readonly ResourceClient<JsonObject> _leases;
    private readonly LeaderElectionConfig _config;
    private string? _observedRaw;
    private JsonObject? _observedSpec;
    private string? _observedResourceVersion;
    private DateTimeOffset _observedTime;
    private volatile bool _isLeader;
    private string? _reportedLeader;

    /// <summary>Creates an elector.</summary>
    /// <param name="leases">A client for <see cref="ResourceType.Leases"/>.</param>
    /// <param name="config">Configuration.</param>
    public LeaderElector(ResourceClient<JsonObject> leases, LeaderElectionConfig config)
    {
        _leases = leases ?? throw new ArgumentNullException(nameof(leases));
        _config = config ?? throw new ArgumentNullException(nameof(config));
        config.Validate();
    }

    /// <summary>True while this candidate holds the lease.</summary>
    public bool IsLeader => _isLeader;

    /// <summary>The holder last observed in the Lease.</summary>
    public string? ObservedLeader => (string?)_observedSpec?["holderIdentity"];

    /// <summary>
    /// Campaigns until leadership is acquired, leads until it is lost or <paramref name="cancellationToken"/> is
    /// cancelled, then returns. Call again to campaign again.
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        // :: Step 1
        if (!await AcquireAsync(cancellationToken).ConfigureAwait(false))
        {
            return;
        }

        // :: Step 2
        using var leading = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var callback = _config.OnStartedLeading is { } start ? Task.Run(() => start(leading.Token), CancellationToken.None) : Task.CompletedTask;
        try
        {
            await RenewLoopAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // :: Step 3
            _isLeader = false;
            await leading.CancelAsync().ConfigureAwait(false);
            if (cancellationToken.IsCancellationRequested && _config.ReleaseOnCancel)
            {
                await ReleaseAsync().ConfigureAwait(false);
            }

            try
            {
                await callback.ConfigureAwait(false);
            }
#pragma warning disable CA1031 // The callback's failure must not mask the end of leadership.
            catch (Exception)
#pragma warning restore CA1031
            {
                // OnStartedLeading reports its own errors; leadership has ended either way.
            }

            _config.OnStoppedLeading?.Invoke();
        }
    }

    private async Task<bool> AcquireAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                if (await TryAcquireOrRenewAsync(cancellationToken).ConfigureAwait(false))
                {
                    _isLeader = true;
                    return true;
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return false;
            }

            try
            {
                await Task.Delay(NextAcquireDelay(), _config.TimeProvider, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }

        return false;
    }

    /// <summary>How long a candidate waits before its next attempt to acquire.</summary>
    /// <remarks>
    /// client-go waits a jittered retryPeriod × [1, 2.2) between attempts, so a follower may see the leader's last
    /// renewal up to 2.2 retry periods late and notice its expiry up to 2.2 retry periods late again: takeover after a
    /// crash can take leaseDuration + 4.4 × retryPeriod. Here a follower watching a live holder polls every
    /// retryPeriod exactly (a GET, so there is no write contention to spread out) and wakes at the moment the lease
    /// it observed expires. It therefore sees the last renewal at most one retryPeriod late and acts on expiry at
    /// once: takeover within leaseDuration + retryPeriod of the crash, plus request latency. The jitter stays for a
    /// free or contended lease, where candidates would otherwise write at the same instant.
    /// </remarks>
    internal TimeSpan NextAcquireDelay()
    {
        var jittered = _config.RetryPeriod * (1 + (1.2 * Random.Shared.NextDouble()));
        if (_observedSpec is null || (string?)_observedSpec["holderIdentity"] is not { Length: > 0 } holder || holder == _config.Identity)
        {
            return jittered;
        }

        var duration = _observedSpec["leaseDurationSeconds"] is JsonValue dv && dv.TryGetValue<int>(out var d) ? TimeSpan.FromSeconds(d) : _config.LeaseDuration;
        var untilExpiry = _observedTime + duration - _config.TimeProvider.GetUtcNow();
        if (untilExpiry <= TimeSpan.Zero)
        {
            return jittered;
        }

        // A few milliseconds past expiry, so the next attempt does not find the lease still (just) live.
        var atExpiry = untilExpiry + TimeSpan.FromMilliseconds(5);
        return atExpiry < _config.RetryPeriod ? atExpiry : _config.RetryPeriod;
    }

    private async Task RenewLoopAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            var deadline = _config.TimeProvider.GetUtcNow() + _config.RenewDeadline;
            var renewed = false;
            while (!cancellationToken.IsCancellationRequested && _config.TimeProvider.GetUtcNow() < deadline)
            {
                using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                attempt.CancelAfter(deadline - _config.TimeProvider.GetUtcNow());
                try
                {
                    if (await TryAcquireOrRenewAsync(attempt.Token).ConfigureAwait(false))
                    {
                        renewed = true;
                        break;
                    }
                }
                catch (OperationCanceledException)
                {
                    // Either the renew deadline passed (give up leadership) or the run was cancelled.
                    break;
                }

                if (_observedSpec is not null && (string?)_observedSpec["holderIdentity"] is { Length: > 0 } h && h != _config.Identity)
                {
                    // Someone else holds the lease now: there is nothing left to renew.
                    break;
                }

                await DelayQuietlyAsync(_config.RetryPeriod, cancellationToken).ConfigureAwait(false);
            }

            if (!renewed)
            {
                return;
            }

            await DelayQuietlyAsync(_config.RetryPeriod, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task DelayQuietlyAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(delay, _config.TimeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The caller checks the token.
        }
    }

    /// <summary>One attempt, client-go's tryAcquireOrRenew.</summary>
    internal async Task<bool> TryAcquireOrRenewAsync(CancellationToken cancellationToken)
    {
        var now = _config.TimeProvider.GetUtcNow();
        var leaseSeconds = (int)Math.Max(1, Math.Ceiling(_config.LeaseDuration.TotalSeconds));
        JsonObject? current;
        try
        {
            current = await _leases.TryGetAsync(_config.LeaseNamespace, _config.LeaseName, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is KubernetesApiException or HttpRequestException or TimeoutException)
        {
            return false;
        }

        if (current is null)
        {
            var spec = new JsonObject
            {
                ["holderIdentity"] = _config.Identity,
                ["leaseDurationSeconds"] = leaseSeconds,
                ["acquireTime"] = MicroTime(now),
                ["renewTime"] = MicroTime(now),
                ["leaseTransitions"] = 0,
            };
            var lease = new JsonObject
            {
                ["apiVersion"] = "coordination.k8s.io/v1",
                ["kind"] = "Lease",
                ["metadata"] = new JsonObject { ["name"] = _config.LeaseName, ["namespace"] = _config.LeaseNamespace },
                ["spec"] = spec,
            };
            try
            {
                var created = await _leases.CreateAsync(_config.LeaseNamespace, lease, cancellationToken).ConfigureAwait(false);
                Observe(created, now);
                return true;
            }
            catch (Exception ex) when (ex is KubernetesApiException or HttpRequestException or TimeoutException)
            {
                return false;
            }
        }

        var oldSpec = current["spec"] as JsonObject ?? new JsonObject();
        Observe(current, now);
        var holder = (string?)oldSpec["holderIdentity"] ?? "";
        var oldDuration = oldSpec["leaseDurationSeconds"] is JsonValue dv && dv.TryGetValue<int>(out var d) ? d : leaseSeconds;
        var isHeldByUs = holder == _config.Identity;
        if (holder.Length > 0 && !isHeldByUs && _observedTime + TimeSpan.FromSeconds(oldDuration) > now)
        {
            return false;
        }

        var transitions = oldSpec["leaseTransitions"] is JsonValue tv && tv.TryGetValue<int>(out var t) ? t : 0;
        var newSpec = new JsonObject
        {
            ["holderIdentity"] = _config.Identity,
            ["leaseDurationSeconds"] = leaseSeconds,
            ["acquireTime"] = isHeldByUs ? oldSpec["acquireTime"]?.DeepClone() : MicroTime(now),
            ["renewTime"] = MicroTime(now),
            ["leaseTransitions"] = isHeldByUs ? transitions : transitions + 1,
        };
        var updated = (JsonObject)current.DeepClone();
        updated["spec"] = newSpec;
        try
        {
            var written = await _leases.ReplaceAsync(_config.LeaseNamespace, _config.LeaseName, updated, cancellationToken).ConfigureAwait(false);
            Observe(written, _config.TimeProvider.GetUtcNow());
            return true;
        }
        catch (Exception ex) when (ex is KubernetesApiException or HttpRequestException or TimeoutException)
        {
            // A 409 means another candidate wrote first: this attempt failed.
            return false;
        }
    }

    private async Task ReleaseAsync()
    {
        if (_observedSpec is null || (string?)_observedSpec["holderIdentity"] != _config.Identity || _observedResourceVersion is null)
        {
            return;
        }

        var now = _config.TimeProvider.GetUtcNow();
        var lease = new JsonObject
        {
            ["apiVersion"] = "coordination.k8s.io/v1",
            ["kind"] = "Lease",
            ["metadata"] = new JsonObject
            {
                ["name"] = _config.LeaseName,
                ["namespace"] = _config.LeaseNamespace,
                ["resourceVersion"] = _observedResourceVersion,
            },
            ["spec"] = new JsonObject
            {
                ["holderIdentity"] = "",
                ["leaseDurationSeconds"] = 1,
                ["acquireTime"] = MicroTime(now),
                ["renewTime"] = MicroTime(now),
                ["leaseTransitions"] = _observedSpec["leaseTransitions"]?.DeepClone() ?? 0,
            },
        };
        using var timeout = new CancellationTokenSource(_config.RenewDeadline);
        try
        {
            var written = await _leases.ReplaceAsync(_config.LeaseNamespace, _config.LeaseName, lease, timeout.Token).ConfigureAwait(false);
            Observe(written, now);
        }
        catch (Exception ex) when (ex is KubernetesApiException or HttpRequestException or TimeoutException or OperationCanceledException)
        {
            // Best effort: if the release fails, the lease simply expires.
        }
    }

    private void Observe(JsonObject lease, DateTimeOffset now)
    {
        var spec = lease["spec"] as JsonObject ?? new JsonObject();
        var raw = spec.ToJsonString();
        _observedResourceVersion = ObjectKey.From(lease).ResourceVersion;
        if (raw != _observedRaw)
        {
            _observedRaw = raw;
            _observedSpec = (JsonObject)spec.DeepClone();
            _observedTime = now;
        }

        var holder = (string?)spec["holderIdentity"] ?? "";
        if (holder != _reportedLeader)
        {
            _reportedLeader = holder;
            if (holder.Length > 0)
            {
                _config.OnNewLeader?.Invoke(holder);
            }
        }
    }

    private static string MicroTime(DateTimeOffset t) =>
        t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);
}
