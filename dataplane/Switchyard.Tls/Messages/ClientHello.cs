using System.Text;

namespace Switchyard.Tls.Messages;

/// <summary>A parsed ClientHello (RFC 8446 §4.1.2) with the extensions this stack reads.</summary>
internal sealed class ClientHello
{
    public byte[] Random { get; private set; } = [];

    public byte[] SessionId { get; private set; } = [];

    public List<ushort> CipherSuites { get; } = [];

    public string? ServerName { get; private set; }

    public List<ushort>? SupportedGroups { get; private set; }

    public List<ushort>? SignatureAlgorithms { get; private set; }

    public List<KeyShareEntry>? KeyShares { get; private set; }

    public List<ushort>? SupportedVersions { get; private set; }

    public List<byte[]>? ApplicationProtocols { get; private set; }

    public byte[]? TransportParameters { get; private set; }

    public byte[]? Cookie { get; private set; }

    public bool EarlyData { get; private set; }

    /// <summary>Parses a ClientHello body (the handshake header removed).</summary>
    /// <exception cref="TlsAlertException">decode_error, illegal_parameter or protocol_version.</exception>
    public static ClientHello Parse(ReadOnlySpan<byte> body)
    {
        var hello = new ClientHello();
        var reader = new TlsReader(body, "ClientHello");
        reader.ReadUInt16(); // legacy_version: ignored, supported_versions decides (RFC 8446 §4.2.1).
        hello.Random = reader.ReadBytes(32).ToArray();
        var sessionId = reader.ReadVector8();
        if (sessionId.Length > 32)
        {
            throw TlsErrors.Decode("ClientHello legacy_session_id is longer than 32 bytes (RFC 8446 §4.1.2)");
        }

        hello.SessionId = sessionId.ToArray();
        var suites = reader.ReadVector16(min: 2);
        if (suites.Length % 2 != 0)
        {
            throw TlsErrors.Decode("ClientHello cipher_suites has an odd length (RFC 8446 §4.1.2)");
        }

        for (var i = 0; i < suites.Length; i += 2)
        {
            hello.CipherSuites.Add((ushort)((suites[i] << 8) | suites[i + 1]));
        }

        var compression = reader.ReadVector8(min: 1);
        if (reader.IsEmpty)
        {
            // No extensions at all: a pre-1.3 ClientHello (RFC 8446 §4.2.1, §D.2).
            throw new TlsAlertException(TlsAlert.ProtocolVersion, "ClientHello without extensions cannot offer TLS 1.3 (RFC 8446 §4.2.1)");
        }

        var extensions = reader.ReadVector16(min: 8);
        reader.EnsureEnd();
        hello.ParseExtensions(extensions);

        // RFC 8446 §4.1.2: TLS 1.3 ClientHellos carry exactly one compression method, null.
        if (compression.Length != 1 || compression[0] != 0)
        {
            throw TlsErrors.Illegal("ClientHello legacy_compression_methods must be exactly [null] (RFC 8446 §4.1.2)");
        }

        return hello;
    }

    private void ParseExtensions(ReadOnlySpan<byte> block)
    {
        var reader = new TlsReader(block, "ClientHello extensions");
        var seen = new HashSet<ushort>();
        while (!reader.IsEmpty)
        {
            var type = reader.ReadUInt16();
            var data = reader.ReadVector16();
            if (!seen.Add(type))
            {
                throw TlsErrors.Illegal($"ClientHello repeats extension {type} (RFC 8446 §4.2)");
            }

            switch ((ExtensionType)type)
            {
                case ExtensionType.ServerName:
                    ServerName = ParseServerName(data);
                    break;
                case ExtensionType.SupportedGroups:
                    SupportedGroups = ParseUInt16List(data, "supported_groups", min: 2);
                    break;
                case ExtensionType.SignatureAlgorithms:
                    SignatureAlgorithms = ParseUInt16List(data, "signature_algorithms", min: 2);
                    break;
                case ExtensionType.KeyShare:
                    KeyShares = ParseKeyShares(data);
                    break;
                case ExtensionType.SupportedVersions:
                    {
                        var versions = new TlsReader(data, "supported_versions");
                        var list = versions.ReadVector8(min: 2);
                        versions.EnsureEnd();
                        SupportedVersions = ParseUInt16Items(list, "supported_versions");
                        break;
                    }

                case ExtensionType.ApplicationLayerProtocolNegotiation:
                    ApplicationProtocols = ParseAlpn(data);
                    break;
                case ExtensionType.QuicTransportParameters:
                    TransportParameters = data.ToArray();
                    break;
                case ExtensionType.Cookie:
                    {
                        var cookie = new TlsReader(data, "cookie");
                        Cookie = cookie.ReadVector16(min: 1).ToArray();
                        cookie.EnsureEnd();
                        break;
                    }

                case ExtensionType.EarlyData:
                    EarlyData = true;
                    break;
                case ExtensionType.PreSharedKey:
                    // RFC 8446 §4.2.11: pre_shared_key must be the last extension. The server ignores PSKs and does
                    // a full handshake, but the position rule is cheap to hold the client to.
                    if (!reader.IsEmpty)
                    {
                        throw TlsErrors.Illegal("pre_shared_key is not the last ClientHello extension (RFC 8446 §4.2.11)");
                    }

                    break;
                default:
                    // Unknown extensions, GREASE (RFC 8701) and ones this server does not use
                    // (psk_key_exchange_modes, signature_algorithms_cert, …) are skipped (RFC 8446 §4.2).
                    break;
            }
        }
    }

    private static string ParseServerName(ReadOnlySpan<byte> data)
    {
        // RFC 6066 §3: ServerNameList server_name_list<1..2^16-1>; ServerName { NameType name_type; HostName<1..2^16-1> }.
        var outer = new TlsReader(data, "server_name");
        var list = outer.ReadVector16(min: 1);
        outer.EnsureEnd();
        var reader = new TlsReader(list, "server_name list");
        string? hostName = null;
        while (!reader.IsEmpty)
        {
            var nameType = reader.ReadUInt8();
            var name = reader.ReadVector16(min: 1);
            if (nameType != 0)
            {
                continue;
            }

            if (hostName is not null)
            {
                throw TlsErrors.Illegal("server_name holds two host_name entries (RFC 6066 §3)");
            }

            foreach (var b in name)
            {
                if (b is < 0x21 or > 0x7E)
                {
                    throw TlsErrors.Illegal("server_name host_name is not printable ASCII (RFC 6066 §3)");
                }
            }

            hostName = Encoding.ASCII.GetString(name).TrimEnd('.').ToLowerInvariant();
        }

        if (hostName is null)
        {
            throw TlsErrors.Illegal("server_name has no host_name entry (RFC 6066 §3)");
        }

        return hostName;
    }

    private static List<ushort> ParseUInt16List(ReadOnlySpan<byte> data, string what, int min)
    {
        var reader = new TlsReader(data, what);
        var list = reader.ReadVector16(min);
        reader.EnsureEnd();
        return ParseUInt16Items(list, what);
    }

    private static List<ushort> ParseUInt16Items(ReadOnlySpan<byte> list, string what)
    {
        if (list.Length % 2 != 0)
        {
            throw TlsErrors.Decode($"{what} has an odd length (RFC 8446 §4.2)");
        }

        var values = new List<ushort>(list.Length / 2);
        for (var i = 0; i < list.Length; i += 2)
        {
            values.Add((ushort)((list[i] << 8) | list[i + 1]));
        }

        return values;
    }

    private static List<KeyShareEntry> ParseKeyShares(ReadOnlySpan<byte> data)
    {
        // RFC 8446 §4.2.8: KeyShareEntry client_shares<0..2^16-1>; KeyShareEntry { group; opaque key_exchange<1..2^16-1> }.
        var outer = new TlsReader(data, "key_share");
        var list = outer.ReadVector16();
        outer.EnsureEnd();
        var reader = new TlsReader(list, "key_share entries");
        var shares = new List<KeyShareEntry>();
        while (!reader.IsEmpty)
        {
            var group = reader.ReadUInt16();
            var key = reader.ReadVector16(min: 1);
            if (shares.Exists(s => s.Group == group))
            {
                throw TlsErrors.Illegal($"key_share repeats group 0x{group:x4} (RFC 8446 §4.2.8)");
            }

            shares.Add(new KeyShareEntry(group, key.ToArray()));
        }

        return shares;
    }

    private static List<byte[]> ParseAlpn(ReadOnlySpan<byte> data)
    {
        // RFC 7301 §3.1: ProtocolName protocol_name_list<2..2^16-1>; opaque ProtocolName<1..2^8-1>.
        var outer = new TlsReader(data, "application_layer_protocol_negotiation");
        var list = outer.ReadVector16(min: 2);
        outer.EnsureEnd();
        var reader = new TlsReader(list, "ALPN protocol_name_list");
        var names = new List<byte[]>();
        while (!reader.IsEmpty)
        {
            names.Add(reader.ReadVector8(min: 1).ToArray());
        }

        return names;
    }
}

/// <summary>One KeyShareEntry (RFC 8446 §4.2.8).</summary>
internal readonly record struct KeyShareEntry(ushort Group, byte[] KeyExchange);
