using Switchyard.Processors.Payloads;

namespace Switchyard.Processors.Tests.Payloads;

public sealed class JpegInspectorTests
{
    [Theory]
    [InlineData(0xC0, 640, 480)] // SOF0 baseline
    [InlineData(0xC1, 1, 1)] // SOF1 extended sequential
    [InlineData(0xC2, 1280, 720)] // SOF2 progressive
    [InlineData(0xC0, 65535, 65535)] // largest size T.81 can express
    public void FrameHeader_GivesWidthAndHeight(byte sof, int width, int height)
    {
        var info = JpegInspector.Inspect(TestPayloads.Jpeg(width, height, sof));

        Assert.Equal(new JpegInfo(true, true, width, height), info);
    }

    [Fact]
    public void NoEoi_IsIncomplete()
    {
        var info = JpegInspector.Inspect(TestPayloads.Jpeg(8, 8, withEoi: false));

        Assert.True(info.IsJpeg);
        Assert.False(info.Complete);
        Assert.Equal(8, info.Width);
    }

    [Theory]
    [InlineData(new byte[0])] // empty
    [InlineData(new byte[] { 0xFF })] // one byte
    [InlineData(new byte[] { 0x89, 0x50, 0x4E, 0x47 })] // PNG signature
    public void NotStartingWithSoi_IsNotJpeg(byte[] data)
    {
        Assert.Equal(new JpegInfo(false, false, null, null), JpegInspector.Inspect(data));
    }

    [Fact]
    public void SoiEoiOnly_IsCompleteWithoutSize()
    {
        Assert.Equal(new JpegInfo(true, true, null, null), JpegInspector.Inspect([0xFF, 0xD8, 0xFF, 0xD9]));
    }

    [Fact]
    public void SegmentLengthPastTheEnd_GivesNoSize()
    {
        byte[] data = [0xFF, 0xD8, 0xFF, 0xE0, 0x40, 0x00, 0x00, 0xFF, 0xD9];

        Assert.Null(JpegInspector.Inspect(data).Width);
    }

    [Fact]
    public void SofHeaderTooShort_GivesNoSize()
    {
        byte[] data = [0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x04, 0x08, 0x00, 0xFF, 0xD9];

        Assert.Null(JpegInspector.Inspect(data).Width);
    }

    [Fact]
    public void RandomDamage_NeverThrows()
    {
        var deadline = DateTime.UtcNow.AddSeconds(2);
        var random = new Random(42);
        var template = TestPayloads.Jpeg(640, 480);
        while (DateTime.UtcNow < deadline)
        {
            var data = template.Take(random.Next(template.Length + 1)).ToArray();
            for (var i = random.Next(4); i > 0 && data.Length > 2; i--)
            {
                data[2 + random.Next(data.Length - 2)] = (byte)random.Next(256);
            }

            var info = JpegInspector.Inspect(data);
            Assert.True(info.IsJpeg || data.Length < 2);
            Assert.True(info.Width is null or >= 0 and <= 65535);
        }
    }
}
