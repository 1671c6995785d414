using System.Text;
using Switchyard.Processors.Payloads;

namespace Switchyard.Processors.Tests.Payloads;

public sealed class ChatMessageParserTests
{
    [Fact]
    public void SeedChatObject_Parses()
    {
        var ok = ChatMessageParser.TryParse(TestPayloads.Chat("msg-7", "alice", "hello 👋"), out var chat, out var error);

        Assert.True(ok);
        Assert.Null(error);
        Assert.Equal(new ChatMessage("msg-7", 1_700_000_000_000, "alice", "hello 👋", "chat"), chat);
    }

    [Fact]
    public void NumericMessageId_IsKeptAsText()
    {
        var json = "{\"message_id\":42,\"timestamp\":1.5,\"user\":\"u\",\"message\":\"m\",\"type\":\"system\",\"extra\":[1]}";

        Assert.True(ChatMessageParser.TryParse(Encoding.UTF8.GetBytes(json), out var chat, out _));
        Assert.Equal("42", chat!.MessageId);
        Assert.Equal("system", chat.Type);
    }

    [Theory]
    [InlineData(new byte[] { 0x7B, 0x22, 0xC3, 0x28, 0x22, 0x3A, 0x31, 0x7D })] // invalid UTF-8 inside a key
    [InlineData(new byte[] { 0xEF, 0xBB, 0xBF })] // a BOM and nothing else
    public void InvalidBytes_AreRefused(byte[] data)
    {
        Assert.False(ChatMessageParser.TryParse(data, out var chat, out var error));
        Assert.Null(chat);
        Assert.NotNull(error);
    }

    [Fact]
    public void InvalidUtf8InsideAString_IsRefused()
    {
        byte[] json = [.. "{\"message_id\":\"a"u8, 0xF6, .. "\",\"timestamp\":1,\"user\":\"u\",\"message\":\"m\",\"type\":\"chat\"}"u8];

        Assert.False(ChatMessageParser.TryParse(json, out _, out var error));
        Assert.Contains("UTF-8", error, StringComparison.Ordinal);
    }

    [Fact]
    public void EscapedLoneSurrogate_IsRefused()
    {
        var json = "{\"message_id\":\"a\",\"timestamp\":1,\"user\":\"\\uD800\",\"message\":\"m\",\"type\":\"chat\"}";

        Assert.False(ChatMessageParser.TryParse(Encoding.UTF8.GetBytes(json), out _, out var error));
        Assert.NotNull(error);
    }

    [Fact]
    public void DeepNesting_IsRefusedNotThrown()
    {
        var json = new string('[', 10_000) + new string(']', 10_000);

        Assert.False(ChatMessageParser.TryParse(Encoding.UTF8.GetBytes(json), out _, out var error));
        Assert.NotNull(error);
    }

    [Fact]
    public void RandomBytes_NeverThrow()
    {
        var deadline = DateTime.UtcNow.AddSeconds(2);
        var random = new Random(7);
        var template = TestPayloads.Chat("id", "user", "text");
        while (DateTime.UtcNow < deadline)
        {
            var data = (byte[])template.Clone();
            data[random.Next(data.Length)] = (byte)random.Next(256);
            var ok = ChatMessageParser.TryParse(data.AsMemory(0, random.Next(data.Length + 1)), out var chat, out var error);
            Assert.Equal(ok, chat is not null);
            Assert.Equal(ok, error is null);
        }
    }
}
