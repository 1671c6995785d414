using System.Text;
using Switchyard.Tls.Crypto;
using Switchyard.Tls.Messages;

namespace Switchyard.Tls.Tests;

/// <summary>Builds ClientHellos by hand, so tests can send what no well-behaved client would.</summary>
internal sealed class ClientHelloBuilder
{
    public byte[] Random { get; set; } = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);

    public byte[] SessionId { get; set; } = [];

    public List<ushort> CipherSuites { get; set; } = [0x1301, 0x1302, 0x1303];

    public byte[] Compression { get; set; } = [0];

    public List<(ushort Type, byte[] Data)> Extensions { get; } = [];

    /// <summary>A ClientHello a QUIC client would send, with an X25519 share from <paramref name="share"/>.</summary>
    public static ClientHelloBuilder Standard(KeyShare share, string alpn = "h3")
    {
        var builder = new ClientHelloBuilder();
        builder.Add(ExtensionType.ServerName, ServerName("localhost"))
            .Add(ExtensionType.SupportedVersions, [2, 0x03, 0x04])
            .Add(ExtensionType.SupportedGroups, U16List(0x001d, 0x0017))
            .Add(ExtensionType.SignatureAlgorithms, U16List(0x0403, 0x0804))
            .Add(ExtensionType.KeyShare, KeyShares(((ushort)share.Group, share.PublicKey.ToArray())))
            .Add(ExtensionType.ApplicationLayerProtocolNegotiation, Alpn(alpn))
            .Add(ExtensionType.QuicTransportParameters, [0x01, 0x02]);
        return builder;
    }

    public ClientHelloBuilder Add(ExtensionType type, byte[] data) => Add((ushort)type, data);

    public ClientHelloBuilder Add(ushort type, byte[] data)
    {
        Extensions.Add((type, data));
        return this;
    }

    public ClientHelloBuilder Remove(ExtensionType type)
    {
        Extensions.RemoveAll(e => e.Type == (ushort)type);
        return this;
    }

    public ClientHelloBuilder Replace(ExtensionType type, byte[] data)
    {
        var index = Extensions.FindIndex(e => e.Type == (ushort)type);
        Extensions[index] = ((ushort)type, data);
        return this;
    }

    public byte[] Build()
    {
        var writer = new TlsWriter();
        var start = writer.BeginMessage(HandshakeType.ClientHello);
        writer.WriteUInt16(0x0303);
        writer.WriteBytes(Random);
        writer.WriteVector8(SessionId);
        var suites = writer.BeginVector(2);
        foreach (var suite in CipherSuites)
        {
            writer.WriteUInt16(suite);
        }

        writer.EndVector(suites, 2);
        writer.WriteVector8(Compression);
        var extensions = writer.BeginVector(2);
        foreach (var (type, data) in Extensions)
        {
            writer.WriteUInt16(type);
            writer.WriteVector16(data);
        }

        writer.EndVector(extensions, 2);
        writer.EndMessage(start);
        return writer.ToArray();
    }

    public static byte[] U16List(params ushort[] values)
    {
        var writer = new TlsWriter();
        var list = writer.BeginVector(2);
        foreach (var value in values)
        {
            writer.WriteUInt16(value);
        }

        writer.EndVector(list, 2);
        return writer.ToArray();
    }

    public static byte[] KeyShares(params (ushort Group, byte[] Key)[] shares)
    {
        var writer = new TlsWriter();
        var list = writer.BeginVector(2);
        foreach (var (group, key) in shares)
        {
            writer.WriteUInt16(group);
            writer.WriteVector16(key);
        }

        writer.EndVector(list, 2);
        return writer.ToArray();
    }

    public static byte[] Alpn(params string[] protocols)
    {
        var writer = new TlsWriter();
        var list = writer.BeginVector(2);
        foreach (var protocol in protocols)
        {
            writer.WriteVector8(Encoding.ASCII.GetBytes(protocol));
        }

        writer.EndVector(list, 2);
        return writer.ToArray();
    }

    public static byte[] ServerName(string name)
    {
        var writer = new TlsWriter();
        var list = writer.BeginVector(2);
        writer.WriteUInt8(0);
        writer.WriteVector16(Encoding.ASCII.GetBytes(name));
        writer.EndVector(list, 2);
        return writer.ToArray();
    }
}
