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
