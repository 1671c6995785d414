using Switchyard.Processors.Payloads;

namespace Switchyard.Processors.Tests.Payloads;

public sealed class Pcm16MeterTests
{
    [Theory]
    [InlineData(16384, 0.5)] // half scale: -6.02 dBFS
    [InlineData(32767, 32767 / 32768.0)] // full scale, positive limit
    [InlineData(1, 1 / 32768.0)] // one LSB
    public void SquareWave_RmsEqualsAmplitude(short amplitude, double expected)
    {
        var level = Pcm16Meter.Measure(TestPayloads.SquareWave(1000, amplitude));

        Assert.Equal(1000, level.Samples);
        Assert.Equal(expected, level.Rms, 9);
        Assert.Equal(expected, level.Peak, 9);
        Assert.Equal(20 * Math.Log10(expected), level.Dbfs!.Value, 9);
    }

    [Fact]
    public void MostNegativeSample_IsFullScale()
    {
        Assert.Equal(1.0, Pcm16Meter.Measure([0x00, 0x80]).Peak);
    }

    [Fact]
    public void Sine_RmsIsAmplitudeOverRootTwo()
    {
        var bytes = new byte[44100 * 2];
        for (var i = 0; i < 44100; i++)
        {
            var value = (short)Math.Round(Math.Sin(2 * Math.PI * 441 * i / 44100.0) * 16384);
            bytes[2 * i] = (byte)value;
            bytes[(2 * i) + 1] = (byte)(value >> 8);
        }

        Assert.Equal(0.5 / Math.Sqrt(2), Pcm16Meter.Measure(bytes).Rms, 4);
    }

    [Fact]
    public void SilenceAndEmpty_HaveNoDbfs()
    {
        Assert.Null(Pcm16Meter.Measure(new byte[100]).Dbfs);
        Assert.Equal(0, Pcm16Meter.Measure([]).Samples);
        Assert.Equal(0, Pcm16Meter.Measure([0x7F]).Samples);
    }

    [Fact]
    public void TrailingOddByte_IsIgnored()
    {
        var even = Pcm16Meter.Measure(TestPayloads.SquareWave(10, 100));
        var odd = Pcm16Meter.Measure([.. TestPayloads.SquareWave(10, 100), 0x7F]);

        Assert.Equal(even, odd);
    }
}
