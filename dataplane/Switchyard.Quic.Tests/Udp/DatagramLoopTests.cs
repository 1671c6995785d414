using System.Net;
using System.Net.Sockets;
using Switchyard.Quic.Udp;

namespace Switchyard.Quic.Tests.Udp;

public class DatagramLoopTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private sealed class Burst(IPEndPoint target, int count, int size) : IDatagramEndpoint
    {
        private int _sent;

        public long? NextDeadline => null;

        public bool IsFinished => false;

        public bool HasUrgentSend => false;

        public void Receive(ReadOnlySpan<byte> datagram, IPEndPoint from, long now)
        {
        }

        public bool TrySend(Span<byte> buffer, out int length, out IPEndPoint to, long now)
        {
            to = target;
            length = 0;
            if (_sent == count)
            {
                return false;
            }

            // The last datagram is shorter, which must end a GSO batch.
            length = _sent == count - 1 ? size / 2 : size;
            buffer[..length].Fill((byte)_sent);
            _sent++;
            return true;
        }

        public void OnDeadline(long now)
        {
        }
    }

    /// <summary>Mimics a receiver owing an ACK after every second ack-eliciting packet (RFC 9000 §13.2.2).</summary>
    private sealed class AckEverySecond(IPEndPoint peer) : IDatagramEndpoint
    {
        private int _unacknowledged;

        public int Received { get; private set; }

        public int AcksSent { get; private set; }

        /// <summary>The largest number of datagrams received while an ACK was already owed.</summary>
        public int WorstBacklog { get; private set; }

        public long? NextDeadline => null;

        public bool IsFinished => false;

        public bool HasUrgentSend => _unacknowledged >= 2;

        public void Receive(ReadOnlySpan<byte> datagram, IPEndPoint from, long now)
        {
            Received++;
            _unacknowledged++;
            WorstBacklog = Math.Max(WorstBacklog, _unacknowledged);
        }

        public bool TrySend(Span<byte> buffer, out int length, out IPEndPoint to, long now)
        {
            to = peer;
            length = 0;
            if (_unacknowledged < 2)
            {
                return false;
            }

            _unacknowledged = 0;
            length = 8;
            buffer[..length].Fill(0xac);
            AcksSent++;
            return true;
        }

        public void OnDeadline(long now)
        {
        }
    }

    [Fact]
    public async Task BatchOfQueuedDatagrams_IsAcknowledgedEverySecondDatagramNotOncePerBatch()
    {
        // 120 datagrams wait in the socket before the loop starts, so one receive batch drains them all.
        using var peer = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        peer.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.ReceiveBufferSize = 1 << 20;
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        const int count = 120;
        var payload = new byte[1200];
        for (var i = 0; i < count; i++)
        {
            peer.SendTo(payload, socket.LocalEndPoint!);
        }

        var endpoint = new AckEverySecond((IPEndPoint)peer.LocalEndPoint!);
        using var loop = new DatagramLoop(socket, endpoint, "test");
        await Task.Delay(50);
        loop.Start();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (await loop.Invoke(() => endpoint.Received) < count && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        var (received, acks, backlog) = await loop.Invoke(() => (endpoint.Received, endpoint.AcksSent, endpoint.WorstBacklog));
        output.WriteLine($"received {received}, acks {acks}, worst backlog {backlog}, urgent flushes {loop.UrgentFlushes}");
        Assert.Equal(count, received);
        Assert.Equal(count / 2, acks);
        Assert.Equal(2, backlog);
    }

    /// <summary>Sends the given datagram sizes once, in one flush.</summary>
    private sealed class Sizes(IPEndPoint target, int[] sizes) : IDatagramEndpoint
    {
        private int _next;

        public long? NextDeadline => null;

        public bool IsFinished => false;

        public bool HasUrgentSend => false;

        public void Receive(ReadOnlySpan<byte> datagram, IPEndPoint from, long now)
        {
        }

        public bool TrySend(Span<byte> buffer, out int length, out IPEndPoint to, long now)
        {
            to = target;
            length = 0;
            if (_next == sizes.Length)
            {
                return false;
            }

            length = sizes[_next];
            buffer[..length].Fill((byte)_next);
            _next++;
            return true;
        }

        public void OnDeadline(long now)
        {
        }
    }

    [Fact]
    public void LongerDatagramAfterAGsoBatchOfShortOnes_IsNotCutIntoSegments()
    {
        // The segment size stays set on the socket between batches; a longer single datagram must clear it first.
        using var receiver = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        receiver.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        receiver.ReceiveTimeout = 5000;
        var sender = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        sender.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        int[] sizes = [600, 600, 600, 600, 1200, 300, 300, 1200];
        using var loop = new DatagramLoop(sender, new Sizes((IPEndPoint)receiver.LocalEndPoint!, sizes), "test");
        loop.Start();
        var buffer = new byte[65536];
        for (var i = 0; i < sizes.Length; i++)
        {
            var length = receiver.Receive(buffer);
            Assert.True(length == sizes[i], $"datagram {i}: {length} bytes, expected {sizes[i]} (GSO enabled={loop.GsoEnabled}, batches={loop.GsoBatches})");
            Assert.All(buffer[..length], b => Assert.Equal((byte)i, b));
        }
    }

    /// <summary>Always has a timer 300 µs ahead, as a pacer releasing one packet at a time would.</summary>
    private sealed class ShortTimer : IDatagramEndpoint
    {
        private long _due = DatagramLoop.Now() + 300;

        public int Wakeups { get; private set; }

        public long? NextDeadline => _due;

        public bool IsFinished => false;

        public bool HasUrgentSend => false;

        public void Receive(ReadOnlySpan<byte> datagram, IPEndPoint from, long now)
        {
        }

        public bool TrySend(Span<byte> buffer, out int length, out IPEndPoint to, long now)
        {
            Wakeups++;
            length = 0;
            to = null!;
            return false;
        }

        public void OnDeadline(long now) => _due = now + 300;
    }

    [Fact]
    public async Task SubMillisecondTimer_SleepsInsteadOfSpinning()
    {
        // poll(2) takes milliseconds: 300 µs used to become 0 and the loop spun, burning a core while the pacer waited.
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var endpoint = new ShortTimer();
        using var loop = new DatagramLoop(socket, endpoint, "test");
        var running = System.Diagnostics.Stopwatch.StartNew();
        loop.Start();
        await Task.Delay(500);
        var wakeups = await loop.Invoke(() => endpoint.Wakeups);
        var elapsedMs = running.ElapsedMilliseconds;

        // At most about one wake-up per millisecond of the time it really ran (a loaded machine stretches the 500 ms
        // delay), plus the Invoke's own; a spinning loop makes tens of thousands.
        output.WriteLine($"{wakeups} wake-ups in {elapsedMs} ms");
        Assert.True(wakeups > 50 && wakeups < 2 * elapsedMs, $"{wakeups} wake-ups in {elapsedMs} ms");
    }

    [Fact]
    public async Task Burst_ArrivesAsSeparateDatagrams_WithOrWithoutGso()
    {
        using var receiver = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        receiver.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        receiver.ReceiveTimeout = 5000;
        var sender = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        sender.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        const int count = 20;
        using var loop = new DatagramLoop(sender, new Burst((IPEndPoint)receiver.LocalEndPoint!, count, 1200), "test");
        loop.Start();
        var buffer = new byte[65536];
        for (var i = 0; i < count; i++)
        {
            var length = receiver.Receive(buffer);
            Assert.Equal(i == count - 1 ? 600 : 1200, length);
            Assert.All(buffer[..length], b => Assert.Equal((byte)i, b));
        }

        // Either the kernel took GSO batches, or the loop fell back cleanly; both deliver the same datagrams.
        output.WriteLine($"GSO enabled={loop.GsoEnabled} batches={loop.GsoBatches}");
        Assert.True(loop.GsoBatches > 0 || !loop.GsoEnabled);
        await Task.CompletedTask;
    }
}
