using System.Buffers;
using System.Net;

namespace Switchyard.Quic.Recovery.Simulation;

/// <summary>
/// Inspects, rewrites or drops a datagram as it enters the network; see <see cref="SimulatedNetwork.Filter"/>.
/// </summary>
/// <param name="from">The sender's address.</param>
/// <param name="to">The destination address.</param>
/// <param name="datagram">The datagram, which the filter may modify in place (to corrupt it, say).</param>
/// <param name="now">The current virtual time.</param>
/// <returns><see langword="false"/> to drop the datagram.</returns>
public delegate bool SimulatedDatagramFilter(IPEndPoint from, IPEndPoint to, Span<byte> datagram, long now);

/// <summary>
/// A deterministic in-process network with a virtual clock, for testing sans-I/O protocol endpoints:
/// per-direction delay, jitter, loss, duplication, reordering and a bandwidth-limited queue, all drawn
/// from one seeded <see cref="Random"/>. The same seed and the same endpoints give the same run.
/// </summary>
/// <remarks>
/// One <see cref="Step"/>:
/// <list type="number">
/// <item>Poll every endpoint, in attach order, for datagrams to send now, and put each through its link.</item>
/// <item>Find the next event: the earliest delivery or endpoint deadline.</item>
/// <item>Advance the clock to it, deliver every datagram due, then wake every endpoint whose deadline has come.</item>
/// </list>
/// </remarks>
public sealed class SimulatedNetwork
{
    /// <summary>How many steps may pass without the clock advancing before the run is declared livelocked.</summary>
    public const int MaxStepsWithoutProgress = 100_000;

    private readonly Random _random;
    private readonly List<(IPEndPoint Address, ISimulatedEndpoint Endpoint)> _endpoints = [];
    private readonly Dictionary<IPEndPoint, ISimulatedEndpoint> _byAddress = [];
    private readonly Dictionary<(IPEndPoint From, IPEndPoint To), LinkState> _links = [];
    private readonly PriorityQueue<Delivery, (long Time, long Sequence)> _inFlight = new();
    private readonly byte[] _sendBuffer;
    private long _sequence;
    private int _stepsWithoutProgress;

    /// <summary>Creates an empty network.</summary>
    /// <param name="seed">The seed of the generator behind every random choice.</param>
    /// <param name="defaultLink">The behaviour of links not configured with <see cref="SetLink"/>; <see cref="SimulatedLink.Default"/> when omitted.</param>
    /// <param name="startMicros">The initial virtual time.</param>
    /// <param name="sendBufferSize">The size of the buffer offered to <see cref="ISimulatedEndpoint.TrySend"/>.</param>
    public SimulatedNetwork(int seed, SimulatedLink? defaultLink = null, long startMicros = 0, int sendBufferSize = 65_536)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sendBufferSize);
        _random = new Random(seed);
        DefaultLink = defaultLink ?? SimulatedLink.Default;
        NowMicros = startMicros;
        _sendBuffer = new byte[sendBufferSize];
    }

    /// <summary>The virtual time in microseconds.</summary>
    public long NowMicros { get; private set; }

    /// <summary>The behaviour of every direction without a link of its own.</summary>
    public SimulatedLink DefaultLink { get; set; }

    /// <summary>
    /// Called for every datagram before the link applies loss, delay and the rest: lets a test drop
    /// chosen datagrams (the server's first flight, say) or corrupt them. <see langword="null"/> for none.
    /// </summary>
    public SimulatedDatagramFilter? Filter { get; set; }

    /// <summary>Counters of what the network did.</summary>
    public SimulatedNetworkStatistics Statistics { get; } = new();

    /// <summary>The number of datagrams currently travelling.</summary>
    public int DatagramsInFlight => _inFlight.Count;

    /// <summary>Attaches an endpoint at an address.</summary>
    /// <param name="address">The endpoint's address; datagrams it sends come from here.</param>
    /// <param name="endpoint">The endpoint.</param>
    /// <exception cref="ArgumentException">The address is taken.</exception>
    public void Attach(IPEndPoint address, ISimulatedEndpoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentNullException.ThrowIfNull(endpoint);
        if (!_byAddress.TryAdd(address, endpoint))
        {
            throw new ArgumentException($"An endpoint is already attached at {address}.", nameof(address));
        }

        _endpoints.Add((address, endpoint));
    }

    /// <summary>Detaches the endpoint at <paramref name="address"/>; datagrams still travelling to it are dropped on arrival.</summary>
    /// <param name="address">The endpoint's address.</param>
    /// <returns><see langword="true"/> when an endpoint was detached.</returns>
    public bool Detach(IPEndPoint address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (!_byAddress.Remove(address))
        {
            return false;
        }

        _endpoints.RemoveAll(e => e.Address.Equals(address));
        return true;
    }

    /// <summary>
    /// Moves an endpoint to a new address, as a NAT rebinding or a client migrating would (RFC 9000 §9):
    /// datagrams it sends afterwards come from <paramref name="newAddress"/>, and datagrams still
    /// travelling to the old address are dropped on arrival.
    /// </summary>
    /// <param name="oldAddress">The endpoint's current address.</param>
    /// <param name="newAddress">Its new address, which must be free.</param>
    /// <exception cref="ArgumentException">Nothing is attached at <paramref name="oldAddress"/>, or <paramref name="newAddress"/> is taken.</exception>
    public void Rebind(IPEndPoint oldAddress, IPEndPoint newAddress)
    {
        ArgumentNullException.ThrowIfNull(oldAddress);
        ArgumentNullException.ThrowIfNull(newAddress);
        if (!_byAddress.TryGetValue(oldAddress, out var endpoint))
        {
            throw new ArgumentException($"No endpoint is attached at {oldAddress}.", nameof(oldAddress));
        }

        if (_byAddress.ContainsKey(newAddress))
        {
            throw new ArgumentException($"An endpoint is already attached at {newAddress}.", nameof(newAddress));
        }

        _byAddress.Remove(oldAddress);
        _byAddress.Add(newAddress, endpoint);
        int index = _endpoints.FindIndex(e => e.Address.Equals(oldAddress));
        _endpoints[index] = (newAddress, endpoint);
    }

    /// <summary>Configures one direction of a path.</summary>
    /// <param name="from">The sending address.</param>
    /// <param name="to">The receiving address.</param>
    /// <param name="link">The behaviour of datagrams from <paramref name="from"/> to <paramref name="to"/>.</param>
    public void SetLink(IPEndPoint from, IPEndPoint to, SimulatedLink link)
    {
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(to);
        ArgumentNullException.ThrowIfNull(link);
        State(from, to).Options = link;
    }

    /// <summary>Sends a datagram as if <paramref name="from"/> had sent it now; it goes through the link like any other.</summary>
    /// <param name="from">The source address (need not be attached).</param>
    /// <param name="to">The destination address.</param>
    /// <param name="datagram">The payload.</param>
    public void Inject(IPEndPoint from, IPEndPoint to, ReadOnlySpan<byte> datagram)
    {
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(to);
        if (datagram.Length > _sendBuffer.Length)
        {
            throw new ArgumentException($"The datagram exceeds the {_sendBuffer.Length}-byte send buffer.", nameof(datagram));
        }

        datagram.CopyTo(_sendBuffer);
        Transmit(from, to, _sendBuffer.AsSpan(0, datagram.Length));
    }

    /// <summary>Runs one step: poll, advance to the next event, deliver and wake.</summary>
    /// <param name="maxVirtualTimeMicros">The clock does not advance past this time.</param>
    /// <returns><see langword="false"/> when there is nothing to do at or before <paramref name="maxVirtualTimeMicros"/>; the clock is then moved to it, if later.</returns>
    /// <exception cref="InvalidOperationException">The endpoints keep asking to run without letting time advance.</exception>
    public bool Step(long maxVirtualTimeMicros = long.MaxValue)
    {
        // :: Step 1
        PollSends();

        // :: Step 2
        long? next = null;
        if (_inFlight.TryPeek(out _, out var top))
        {
            next = top.Time;
        }

        foreach (var (_, endpoint) in _endpoints)
        {
            if (endpoint.NextDeadline is { } deadline && (next is null || deadline < next))
            {
                next = deadline;
            }
        }

        if (next is not { } eventTime || eventTime > maxVirtualTimeMicros)
        {
            if (maxVirtualTimeMicros != long.MaxValue)
            {
                NowMicros = Math.Max(NowMicros, maxVirtualTimeMicros);
            }

            return false;
        }

        // :: Step 3
        if (eventTime > NowMicros)
        {
            NowMicros = eventTime;
            _stepsWithoutProgress = 0;
        }
        else if (++_stepsWithoutProgress > MaxStepsWithoutProgress)
        {
            throw new InvalidOperationException($"The simulation made {MaxStepsWithoutProgress} steps at {NowMicros} µs without time advancing: an endpoint keeps a deadline in the past or sends forever.");
        }

        while (_inFlight.TryPeek(out _, out var due) && due.Time <= NowMicros)
        {
            var delivery = _inFlight.Dequeue();
            try
            {
                if (_byAddress.TryGetValue(delivery.To, out var receiver))
                {
                    Statistics.DatagramsDelivered++;
                    Statistics.BytesDelivered += delivery.Length;
                    receiver.Receive(delivery.Buffer.AsSpan(0, delivery.Length), delivery.From, NowMicros);
                }
                else
                {
                    Statistics.DroppedNoRoute++;
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(delivery.Buffer);
            }
        }

        // Iterate over a snapshot count: an endpoint may not attach others from a callback.
        for (int i = 0; i < _endpoints.Count; i++)
        {
            var endpoint = _endpoints[i].Endpoint;
            if (endpoint.NextDeadline is { } deadline && deadline <= NowMicros)
            {
                endpoint.OnDeadline(NowMicros);
            }
        }

        return true;
    }

    /// <summary>Steps until <paramref name="predicate"/> holds or the clock would pass <paramref name="maxVirtualTimeMicros"/>.</summary>
    /// <param name="predicate">Checked before each step.</param>
    /// <param name="maxVirtualTimeMicros">The absolute virtual time to give up at.</param>
    /// <returns>Whether the predicate held.</returns>
    public bool RunUntil(Func<bool> predicate, long maxVirtualTimeMicros)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        while (!predicate())
        {
            if (!Step(maxVirtualTimeMicros))
            {
                return predicate();
            }
        }

        return true;
    }

    /// <summary>Runs for <paramref name="durationMicros"/> of virtual time, or until nothing is left to do.</summary>
    /// <param name="durationMicros">How long to run.</param>
    public void RunFor(long durationMicros)
    {
        long end = NowMicros + durationMicros;
        while (Step(end))
        {
        }
    }

    private void PollSends()
    {
        for (int i = 0; i < _endpoints.Count; i++)
        {
            var (address, endpoint) = _endpoints[i];
            // Bounded so a runaway endpoint cannot hang the simulation in one poll.
            for (int n = 0; n < MaxStepsWithoutProgress; n++)
            {
                if (!endpoint.TrySend(_sendBuffer, out int length, out var to, NowMicros))
                {
                    break;
                }

                if ((uint)length > (uint)_sendBuffer.Length)
                {
                    throw new InvalidOperationException($"Endpoint {address} reported a datagram of {length} bytes in a {_sendBuffer.Length}-byte buffer.");
                }

                Transmit(address, to, _sendBuffer.AsSpan(0, length));
            }
        }
    }

    private void Transmit(IPEndPoint from, IPEndPoint to, Span<byte> datagram)
    {
        Statistics.DatagramsSent++;
        if (Filter is { } filter && !filter(from, to, datagram, NowMicros))
        {
            Statistics.DroppedByFilter++;
            return;
        }

        var link = State(from, to);
        var options = link.Options ?? DefaultLink;

        if (datagram.Length > options.MaxDatagramBytes)
        {
            Statistics.DroppedOversize++;
            return;
        }

        if (options.LossRate > 0 && _random.NextDouble() < options.LossRate)
        {
            Statistics.DroppedByLoss++;
            return;
        }

        long departure = NowMicros;
        if (options.BandwidthBytesPerSecond > 0)
        {
            long busyUntil = Math.Max(link.BusyUntil, NowMicros);
            long backlogBytes = (busyUntil - NowMicros) * options.BandwidthBytesPerSecond / 1_000_000;
            if (backlogBytes + datagram.Length > options.QueueCapacityBytes)
            {
                Statistics.DroppedByQueue++;
                return;
            }

            long serialization = ((datagram.Length * 1_000_000L) + options.BandwidthBytesPerSecond - 1) / options.BandwidthBytesPerSecond;
            link.BusyUntil = busyUntil + serialization;
            departure = link.BusyUntil;
        }

        long arrival = departure + options.OneWayDelayMicros;
        if (options.JitterMicros > 0)
        {
            arrival += _random.NextInt64(0, options.JitterMicros + 1);
        }

        if (options.ReorderRate > 0 && _random.NextDouble() < options.ReorderRate)
        {
            Statistics.Reordered++;
            arrival += options.ReorderDelayMicros;
        }

        Enqueue(from, to, datagram, arrival);

        if (options.DuplicationRate > 0 && _random.NextDouble() < options.DuplicationRate)
        {
            Statistics.Duplicated++;
            long extra = options.JitterMicros > 0 ? _random.NextInt64(0, options.JitterMicros + 1) : 0;
            Enqueue(from, to, datagram, arrival + extra);
        }
    }

    private void Enqueue(IPEndPoint from, IPEndPoint to, ReadOnlySpan<byte> datagram, long arrival)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(datagram.Length, 1));
        datagram.CopyTo(buffer);
        _inFlight.Enqueue(new Delivery(buffer, datagram.Length, from, to), (arrival, _sequence++));
    }

    private LinkState State(IPEndPoint from, IPEndPoint to)
    {
        if (!_links.TryGetValue((from, to), out var state))
        {
            state = new LinkState();
            _links[(from, to)] = state;
        }

        return state;
    }

    private sealed class LinkState
    {
        public SimulatedLink? Options { get; set; }

        public long BusyUntil { get; set; }
    }

    private readonly record struct Delivery(byte[] Buffer, int Length, IPEndPoint From, IPEndPoint To);
}
