using System.Buffers;
using System.Diagnostics;
using FsCheck;
using FsCheck.Fluent;
using Switchyard.Http3.Qpack;
using Switchyard.Http3.Tests.Support;

namespace Switchyard.Http3.Tests.Qpack;

public class QpackDecoderTests
{
    [Fact]
    public void StaticTable_HasAll99EntriesOfAppendixA()
    {
        Assert.Equal(99, QpackStaticTable.Count);
        Assert.Equal(new HeaderField(":authority", ""), QpackStaticTable.Get(0));
        Assert.Equal(new HeaderField(":method", "CONNECT"), QpackStaticTable.Get(15));
        Assert.Equal(new HeaderField(":status", "200"), QpackStaticTable.Get(25));
        Assert.Equal(new HeaderField("content-type", "text/plain;charset=utf-8"), QpackStaticTable.Get(54));
        Assert.Equal(new HeaderField(":status", "100"), QpackStaticTable.Get(63));
        Assert.Equal(new HeaderField("origin", ""), QpackStaticTable.Get(90));
        Assert.Equal(new HeaderField("x-frame-options", "sameorigin"), QpackStaticTable.Get(98));
        Assert.Throws<Http3ConnectionException>(() => QpackStaticTable.Get(99));
    }

    [Fact]
    public void AppendixB1_LiteralWithStaticNameReference()
    {
        var decoder = new QpackDecoder(220, 16, 16384);
        var fields = new List<HeaderField>();
        Assert.Equal(QpackDecodeStatus.Completed, decoder.DecodeFieldSection(Hex.Parse("0000 510b 2f69 6e64 6578 2e68 746d 6c"), fields, out long ric));
        Assert.Equal(0, ric);
        Assert.Equal([new HeaderField(":path", "/index.html")], fields);
    }

    [Fact]
    public void AppendixB2ToB5_DynamicTableSequence()
    {
        var decoder = new QpackDecoder(220, 16, 16384);
        var fields = new List<HeaderField>();

        // B.2: a section that needs two entries arrives before the encoder stream: the stream is blocked.
        byte[] stream4 = Hex.Parse("0381 10 11");
        Assert.Equal(QpackDecodeStatus.Blocked, decoder.DecodeFieldSection(stream4, fields, out long blockedOn));
        Assert.Equal(2, blockedOn);

        byte[] encoder = Hex.Parse("3fbd01 c00f7777772e6578616d706c652e636f6d c10c2f73616d706c652f70617468");
        Assert.Equal(encoder.Length, decoder.ProcessEncoderInstructions(encoder));
        Assert.Equal(220, decoder.Capacity);
        Assert.Equal(106, decoder.Size);
        Assert.Equal(QpackDecodeStatus.Completed, decoder.DecodeFieldSection(stream4, fields, out long ric));
        Assert.Equal(2, ric);
        Assert.Equal([new HeaderField(":authority", "www.example.com"), new HeaderField(":path", "/sample/path")], fields);
        var ack = new ArrayBufferWriter<byte>();
        QpackDecoder.WriteSectionAcknowledgment(ack, 4);
        Assert.Equal(Hex.Parse("84"), ack.WrittenSpan.ToArray());

        // B.3: speculative insert, acknowledged with an Insert Count Increment of 1.
        byte[] insert = Hex.Parse("4a637573746f6d2d6b65790c637573746f6d2d76616c7565");
        Assert.Equal(insert.Length, decoder.ProcessEncoderInstructions(insert));
        var increment = new ArrayBufferWriter<byte>();
        Assert.True(decoder.WriteInsertCountIncrement(increment));
        Assert.Equal(Hex.Parse("01"), increment.WrittenSpan.ToArray());
        Assert.Equal(217 - 57, decoder.Size);

        // B.4: duplicate, then a section referencing it; stream 8 is later cancelled.
        Assert.Equal(1, decoder.ProcessEncoderInstructions(Hex.Parse("02")));
        Assert.Equal(217, decoder.Size);
        fields.Clear();
        Assert.Equal(QpackDecodeStatus.Completed, decoder.DecodeFieldSection(Hex.Parse("0500 80 c1 81"), fields, out ric));
        Assert.Equal(4, ric);
        Assert.Equal([new HeaderField(":authority", "www.example.com"), new HeaderField(":path", "/"), new HeaderField("custom-key", "custom-value")], fields);
        var cancel = new ArrayBufferWriter<byte>();
        QpackDecoder.WriteStreamCancellation(cancel, 8);
        Assert.Equal(Hex.Parse("48"), cancel.WrittenSpan.ToArray());

        // B.5: insert with a dynamic name reference evicts the oldest entry.
        byte[] evicting = Hex.Parse("810d637573746f6d2d76616c756532");
        Assert.Equal(evicting.Length, decoder.ProcessEncoderInstructions(evicting));
        Assert.Equal(215, decoder.Size);
        Assert.Equal(5, decoder.InsertCount);
        increment = new ArrayBufferWriter<byte>();
        Assert.True(decoder.WriteInsertCountIncrement(increment));
        Assert.Equal(Hex.Parse("01"), increment.WrittenSpan.ToArray());

        // The evicted entry (absolute 0) can no longer be referenced.
        fields.Clear();
        Assert.Throws<Http3ConnectionException>(() => decoder.DecodeFieldSection(Hex.Parse("0600 84"), fields, out _));
    }

    [Fact]
    public void EncoderInstruction_SplitAcrossReads_IsAppliedWhenComplete()
    {
        var decoder = new QpackDecoder(220, 16, 16384);
        byte[] encoder = Hex.Parse("3fbd01 c00f7777772e6578616d706c652e636f6d");
        int consumed = decoder.ProcessEncoderInstructions(encoder.AsSpan(0, 10));
        Assert.Equal(3, consumed);
        Assert.Equal(encoder.Length - 3, decoder.ProcessEncoderInstructions(encoder.AsSpan(3)));
        Assert.Equal(1, decoder.InsertCount);
    }

    [Fact]
    public void CapacityAboveOurMaximum_IsEncoderStreamError()
    {
        var decoder = new QpackDecoder(100, 16, 16384);
        var e = Assert.Throws<Http3ConnectionException>(() => decoder.ProcessEncoderInstructions(Hex.Parse("3fbd01")));
        Assert.Equal(Http3ErrorCode.QpackEncoderStreamError, e.ErrorCode);
    }

    [Fact]
    public void ReferenceWithZeroCapacity_IsDecompressionFailed()
    {
        var decoder = new QpackDecoder(0, 0, 16384);
        var e = Assert.Throws<Http3ConnectionException>(() => decoder.DecodeFieldSection(Hex.Parse("0200 80"), new List<HeaderField>(), out _));
        Assert.Equal(Http3ErrorCode.QpackDecompressionFailed, e.ErrorCode);
    }

    [Fact]
    public async Task BlockedStreamsAboveLimit_IsDecompressionFailed()
    {
        var decoder = new QpackDecoder(220, 1, 16384);
        Task first = decoder.WaitForInsertCountAsync(1, CancellationToken.None);
        var e = await Assert.ThrowsAsync<Http3ConnectionException>(() => decoder.WaitForInsertCountAsync(1, CancellationToken.None));
        Assert.Equal(Http3ErrorCode.QpackDecompressionFailed, e.ErrorCode);
        decoder.ProcessEncoderInstructions(Hex.Parse("3fbd01 c00f7777772e6578616d706c652e636f6d"));
        await first.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void SectionAboveMaxFieldSectionSize_IsRefused()
    {
        var decoder = new QpackDecoder(0, 0, 100);
        var w = new ArrayBufferWriter<byte>();
        QpackEncoder.EncodeFieldSection(w, [new HeaderField("x-big", new string('a', 80))]);
        Assert.Throws<QpackFieldSectionTooLargeException>(() => decoder.DecodeFieldSection(w.WrittenSpan, new List<HeaderField>(), out _));
    }

    [Fact]
    public void EncoderOutput_DecodesToSameFields()
    {
        Gen<string> token = Gen.Elements("a", "b", "x-y", "content-type", ":path", "user-agent", "origin", "accept");
        Gen<string> value = Gen.ArrayOf(Gen.Choose(0x20, 0xff).Select(i => (char)i)).Select(a => new string(a));
        Gen<HeaderField> field = token.SelectMany(n => Gen.OneOf(value, Gen.Elements("", "/", "GET", "200", "text/plain", "*/*")).Select(v => new HeaderField(n, v)));
        Prop.ForAll(Arb.From(Gen.ListOf(field)), fields =>
        {
            var w = new ArrayBufferWriter<byte>();
            QpackEncoder.EncodeFieldSection(w, fields);
            var decoded = new List<HeaderField>();
            var decoder = new QpackDecoder(0, 0, int.MaxValue);
            return decoder.DecodeFieldSection(w.WrittenSpan, decoded, out long ric) == QpackDecodeStatus.Completed && ric == 0 && decoded.SequenceEqual(fields);
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void RandomFieldSectionsAndEncoderStreams_NeverCrash()
    {
        var random = new Random(9204);
        var watch = Stopwatch.StartNew();
        int iterations = 0;
        while (watch.Elapsed < TimeSpan.FromSeconds(2))
        {
            var decoder = new QpackDecoder(4096, 16, 4096);
            byte[] encoder = new byte[random.Next(0, 64)];
            random.NextBytes(encoder);
            try
            {
                decoder.ProcessEncoderInstructions(encoder);
            }
            catch (Http3ConnectionException e)
            {
                Assert.Equal(Http3ErrorCode.QpackEncoderStreamError, e.ErrorCode);
            }

            byte[] section = new byte[random.Next(0, 64)];
            random.NextBytes(section);
            if (section.Length > 0 && random.Next(2) == 0)
            {
                section[0] = 0; // exercise the field lines more often than the prefix
                if (section.Length > 1)
                {
                    section[1] = 0;
                }
            }

            try
            {
                decoder.DecodeFieldSection(section, new List<HeaderField>(), out _);
            }
            catch (Http3ConnectionException e)
            {
                Assert.Equal(Http3ErrorCode.QpackDecompressionFailed, e.ErrorCode);
            }
            catch (QpackFieldSectionTooLargeException)
            {
            }

            iterations++;
        }

        Assert.True(iterations > 1000);
    }
}
