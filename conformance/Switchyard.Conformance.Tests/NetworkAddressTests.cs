namespace Switchyard.Conformance.Tests;

/// <summary>The <c>--usable-network-addresses</c> / <c>--unusable-network-addresses</c> entries.</summary>
public sealed class NetworkAddressTests
{
    [Theory]
    [InlineData("127.0.0.2", "IPAddress", "127.0.0.2")] // an IP address without a type is an IPAddress
    [InlineData("IPAddress=203.0.113.1", "IPAddress", "203.0.113.1")] // an explicit type
    [InlineData(" 2001:db8::1 ", "IPAddress", "2001:db8::1")] // IPv6, trimmed
    [InlineData("gw.example.com", "Hostname", "gw.example.com")] // anything else without a type is a Hostname
    [InlineData("example.com/custom=x", "example.com/custom", "x")] // an implementation-specific type
    public void Parse_ValidEntry_GivesTypeAndValue(string text, string type, string value) =>
        Assert.Equal(new NetworkAddress(type, value), NetworkAddress.Parse(text));

    [Theory]
    [InlineData("")] // nothing
    [InlineData("IPAddress=")] // a type without a value
    [InlineData("IPAddress=not-an-ip")] // an IPAddress that does not parse
    [InlineData("IPAddress=1")] // a bare number is not written as an address
    public void Parse_InvalidEntry_Throws(string text) =>
        Assert.Throws<FormatException>(() => NetworkAddress.Parse(text));
}
