using System.Collections.Immutable;
using Switchyard.Ir;

namespace Switchyard.Controller.Hosting;

/// <summary>One Gateway's configuration changed.</summary>
/// <param name="Gateway">The Gateway, as <c>namespace/name</c> (<see cref="GatewaySnapshot.Name"/>).</param>
/// <param name="Snapshot">The new snapshot; null when the Gateway is no longer programmed (deleted, not ours any
/// more, or invalid): a data plane then stops serving it.</param>
public sealed record GatewaySnapshotChange(string Gateway, GatewaySnapshot? Snapshot);

/// <summary>
/// The seam between the control plane and the data plane: the latest valid <see cref="GatewaySnapshot"/> of every
/// programmed Gateway, and a stream of changes. A snapshot equal to the one already published is not published
/// again, so subscribers can swap their configuration on every notification.
/// </summary>
/// <remarks>
/// A new subscriber first receives one change per current snapshot (so it never has to read
/// <see cref="Current"/> separately and race with a publish), then every later change, in order. Notifications
/// are delivered on the controller's provider loop: an observer must hand work off rather than block. An
/// observer's exception is caught and reported through <see cref="ObserverFailed"/>; it never reaches the
/// controller.
/// </remarks>
public sealed class GatewaySnapshotPublisher : IObservable<GatewaySnapshotChange>
{
    private readonly Lock gate = new();
    private readonly List<IObserver<GatewaySnapshotChange>> observers = [];
    private ImmutableSortedDictionary<string, GatewaySnapshot> current = ImmutableSortedDictionary.Create<string, GatewaySnapshot>(StringComparer.Ordinal);
    private long version;
    private bool completed;

    /// <summary>The current snapshot of every programmed Gateway, keyed by <c>namespace/name</c>.</summary>
    public ImmutableSortedDictionary<string, GatewaySnapshot> Current => Volatile.Read(ref current);

    /// <summary>Increases by one with every publish that changed something.</summary>
    public long Version => Interlocked.Read(ref version);

    /// <summary>Raised when an observer throws; the observer stays subscribed.</summary>
    public event Action<Exception>? ObserverFailed;

    /// <summary>The current snapshot of one Gateway.</summary>
    /// <param name="gateway"><c>namespace/name</c>.</param>
    /// <param name="snapshot">The snapshot, or null.</param>
    /// <returns>Whether the Gateway is programmed.</returns>
    public bool TryGet(string gateway, out GatewaySnapshot? snapshot)
    {
        var found = Current.TryGetValue(gateway, out var s);
        snapshot = s;
        return found;
    }

    /// <inheritdoc/>
    public IDisposable Subscribe(IObserver<GatewaySnapshotChange> observer)
    {
        ArgumentNullException.ThrowIfNull(observer);
        lock (gate)
        {
            foreach (var (name, snapshot) in current)
            {
                Deliver(observer, new GatewaySnapshotChange(name, snapshot));
            }

            if (completed)
            {
                Complete(observer);
                return new Subscription(this, null);
            }

            observers.Add(observer);
            return new Subscription(this, observer);
        }
    }

    /// <summary>Subscribes to one Gateway: <paramref name="onChange"/> receives its current snapshot (when it has one)
    /// and then every new one, or null when it stops being programmed.</summary>
    /// <param name="gateway"><c>namespace/name</c>.</param>
    /// <param name="onChange">The callback.</param>
    /// <returns>Disposing it unsubscribes.</returns>
    public IDisposable Subscribe(string gateway, Action<GatewaySnapshot?> onChange)
    {
        ArgumentNullException.ThrowIfNull(onChange);
        return Subscribe(new DelegateObserver(c =>
        {
            if (c.Gateway == gateway)
            {
                onChange(c.Snapshot);
            }
        }));
    }

    /// <summary>Replaces the whole set: publishes a change for every Gateway whose snapshot is new, different or gone.</summary>
    /// <param name="snapshots">Every valid snapshot of the latest translation.</param>
    internal void Publish(IEnumerable<GatewaySnapshot> snapshots)
    {
        lock (gate)
        {
            var next = snapshots.ToImmutableSortedDictionary(s => s.Name, s => s, StringComparer.Ordinal);
            var changes = new List<GatewaySnapshotChange>();
            foreach (var (name, snapshot) in next)
            {
                if (!current.TryGetValue(name, out var old) || !old.Equals(snapshot))
                {
                    changes.Add(new GatewaySnapshotChange(name, snapshot));
                }
            }

            foreach (var name in current.Keys)
            {
                if (!next.ContainsKey(name))
                {
                    changes.Add(new GatewaySnapshotChange(name, null));
                }
            }

            if (changes.Count == 0)
            {
                return;
            }

            // Unchanged snapshots keep their instance, so readers comparing references see no change.
            var builder = next.ToBuilder();
            foreach (var (name, snapshot) in next)
            {
                if (current.TryGetValue(name, out var old) && old.Equals(snapshot))
                {
                    builder[name] = old;
                }
            }

            Volatile.Write(ref current, builder.ToImmutable());
            Interlocked.Increment(ref version);
            var targets = observers.ToArray();
            foreach (var change in changes)
            {
                foreach (var observer in targets)
                {
                    Deliver(observer, change);
                }
            }
        }
    }

    /// <summary>Ends every subscription (the controller stopped).</summary>
    internal void Complete()
    {
        lock (gate)
        {
            completed = true;
            foreach (var observer in observers.ToArray())
            {
                Complete(observer);
            }

            observers.Clear();
        }
    }

    private void Deliver(IObserver<GatewaySnapshotChange> observer, GatewaySnapshotChange change)
    {
        try
        {
            observer.OnNext(change);
        }
#pragma warning disable CA1031 // An observer's failure is its own; the controller keeps publishing.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            ObserverFailed?.Invoke(ex);
        }
    }

    private void Complete(IObserver<GatewaySnapshotChange> observer)
    {
        try
        {
            observer.OnCompleted();
        }
#pragma warning disable CA1031 // As in Deliver.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            ObserverFailed?.Invoke(ex);
        }
    }

    private sealed class Subscription(GatewaySnapshotPublisher owner, IObserver<GatewaySnapshotChange>? observer) : IDisposable
    {
        private IObserver<GatewaySnapshotChange>? observer = observer;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref observer, null) is { } o)
            {
                lock (owner.gate)
                {
                    owner.observers.Remove(o);
                }
            }
        }
    }

    private sealed class DelegateObserver(Action<GatewaySnapshotChange> onNext) : IObserver<GatewaySnapshotChange>
    {
        public void OnCompleted()
        {
        }

        public void OnError(Exception error)
        {
        }

        public void OnNext(GatewaySnapshotChange value) => onNext(value);
    }
}
