using System.Diagnostics;
using Switchyard.Tls.Crypto;

namespace Switchyard.Tls.Tests;

/// <summary>Time-bounded fuzzing: whatever arrives, the only exception that may leave the handshake is a TLS alert.</summary>
public class FuzzTests
{
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(2.5);

    private static void Feed(IQuicTlsHandshake target, EncryptionLevel level, byte[] data, string what)
    {
        try
        {
            target.ProcessCryptoData(level, data);
        }
        catch (TlsAlertException)
        {
        }
        catch (Exception e)
        {
            Assert.Fail($"{what}: {e.GetType().Name} escaped: {e}\ninput {Convert.ToHexString(data)}");
        }
    }

    private static byte[] Mutate(Random random, byte[] input)
    {
        var data = input.ToList();
        var edits = random.Next(1, 6);
        for (var i = 0; i < edits && data.Count > 0; i++)
        {
            var at = random.Next(data.Count);
            switch (random.Next(6))
            {
                case 0:
                    data[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1:
                    data[at] = (byte)random.Next(256);
                    break;
                case 2:
                    data.RemoveRange(at, Math.Min(random.Next(1, 16), data.Count - at));
                    break;
                case 3:
                    data.InsertRange(at, Enumerable.Range(0, random.Next(1, 16)).Select(_ => (byte)random.Next(256)));
                    break;
                case 4:
                    // Length-ish fields: small integers near boundaries.
                    data[at] = (byte)(new[] { 0, 1, 0x7f, 0x80, 0xff }[random.Next(5)]);
                    break;
                default:
                    data.RemoveRange(at, data.Count - at);
                    break;
            }
        }

        // Keep the handshake header's length consistent half the time so the body parser is reached.
        if (data.Count >= 4 && random.Next(2) == 0)
        {
            var length = data.Count - 4;
            data[1] = (byte)(length >> 16);
            data[2] = (byte)(length >> 8);
            data[3] = (byte)length;
        }

        return [.. data];
    }

    [Fact]
    public void RandomBytesToServer_OnlyEverRaiseTlsAlerts()
    {
        var random = new Random(8446);
        var clock = Stopwatch.StartNew();
        var iterations = 0;
        while (clock.Elapsed < Budget)
        {
            var data = new byte[random.Next(0, 600)];
            random.NextBytes(data);
            if (data.Length >= 4 && random.Next(2) == 0)
            {
                data[0] = 1;
                data[1] = 0;
                data[2] = (byte)((data.Length - 4) >> 8);
                data[3] = (byte)(data.Length - 4);
            }

            using var server = QuicTls.CreateServer(TestCertificates.Server(), new RecordingCallbacks(), []);
            Feed(server, (EncryptionLevel)random.Next(4), data, "random");
            iterations++;
        }

        Assert.True(iterations > 100, $"only {iterations} iterations");
    }

    [Fact]
    public void MutatedClientHellos_OnlyEverRaiseTlsAlerts()
    {
        var seeds = new List<byte[]>();
        using (var share = X25519KeyShare.Generate())
        {
            seeds.Add(ClientHelloBuilder.Standard(share).Build());
        }

        using (var share = new P256KeyShare())
        {
            seeds.Add(ClientHelloBuilder.Standard(share).Build());
        }

        using (var pair = new TlsPair(TestCertificates.PinnedClient(), TestCertificates.Server()))
        {
            seeds.Add(pair.StartClient()[0].Data);
        }

        seeds.Add(Convert.FromHexString(KeyScheduleTests.Rfc8448ClientHello));

        var random = new Random(9001);
        var clock = Stopwatch.StartNew();
        var iterations = 0;
        var accepted = 0;
        while (clock.Elapsed < Budget)
        {
            var input = Mutate(random, seeds[random.Next(seeds.Count)]);
            var callbacks = new RecordingCallbacks();
            using var server = QuicTls.CreateServer(TestCertificates.Server(), callbacks, []);
            if (random.Next(4) == 0 && input.Length > 2)
            {
                // Split delivery exercises the reassembler under the same inputs.
                var cut = random.Next(1, input.Length);
                Feed(server, EncryptionLevel.Initial, input[..cut], "mutated hello (first part)");
                Feed(server, EncryptionLevel.Initial, input[cut..], "mutated hello (second part)");
            }
            else
            {
                Feed(server, EncryptionLevel.Initial, input, "mutated hello");
            }

            accepted += callbacks.Outgoing.Count > 0 ? 1 : 0;
            iterations++;
        }

        Assert.True(iterations > 100, $"only {iterations} iterations");
        Assert.True(accepted > 0, "no mutated ClientHello reached the server flight; the fuzzer is too shallow");
    }

    [Fact]
    public void MutatedServerFlights_OnlyEverRaiseTlsAlertsAtTheClient()
    {
        var random = new Random(8448);
        var clock = Stopwatch.StartNew();
        var iterations = 0;
        while (clock.Elapsed < Budget)
        {
            using var pair = new TlsPair(TestCertificates.PinnedClient(), TestCertificates.Server());
            TlsPair.Deliver(pair.Server, pair.StartClient(), 0);
            var writes = pair.ServerCallbacks.Drain();
            var serverHello = writes[0].Data;
            var flight = writes[1].Data;
            if (random.Next(3) == 0)
            {
                Feed(pair.Client, EncryptionLevel.Initial, Mutate(random, serverHello), "mutated ServerHello");
            }
            else
            {
                pair.Client.ProcessCryptoData(EncryptionLevel.Initial, serverHello);
                var messages = TlsPair.SplitMessages(flight);
                var victim = random.Next(messages.Count);
                messages[victim] = Mutate(random, messages[victim]);
                Feed(pair.Client, EncryptionLevel.Handshake, messages.SelectMany(m => m).ToArray(), $"mutated flight message {victim}");
            }

            iterations++;
        }

        Assert.True(iterations > 20, $"only {iterations} iterations");
    }
}
