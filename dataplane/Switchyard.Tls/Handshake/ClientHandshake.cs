using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Switchyard.Tls.Crypto;
using Switchyard.Tls.Messages;

namespace Switchyard.Tls.Handshake;

/// <summary>
/// The client side of a full TLS 1.3 handshake for QUIC (RFC 8446 §2, RFC 9001 §4): no PSK, no 0-RTT; answers a
/// CertificateRequest with an empty Certificate; accepts and ignores NewSessionTicket.
/// </summary>
internal sealed class ClientHandshake : TlsHandshake
{
    private const int MaxCertificates = 16;
    private readonly TlsClientConfig _config;
    private readonly byte[] _transportParameters;
    private readonly List<KeyShare> _keyShares = [];
    private List<NamedGroup> _supportedGroups = [];
    private State _state;
    private byte[] _random = [];
    private TlsCipherSuite? _retrySuite;
    private byte[]? _cookie;
    private byte[]? _handshakeSecret;
    private byte[]? _clientHandshakeSecret;
    private byte[]? _serverHandshakeSecret;
    private byte[]? _certificateRequestContext;

    public ClientHandshake(TlsClientConfig config, IQuicTlsCallbacks callbacks, byte[] transportParameters)
        : base(callbacks, config.KeyLog)
    {
        _config = config;
        _transportParameters = transportParameters;
    }

    private enum State
    {
        Idle,
        WaitServerHello,
        WaitEncryptedExtensions,
        WaitCertificate,
        WaitCertificateVerify,
        WaitFinished,
        Connected,
    }

    protected override void OnStart()
    {
        if (_state != State.Idle)
        {
            // Start is idempotent: the ClientHello is written once.
            return;
        }

        _random = RandomNumberGenerator.GetBytes(32);
        ServerName = _config.ServerName;
        _supportedGroups = _config.SupportedGroups.Where(KeyShare.IsSupported).ToList();
        foreach (var group in _config.KeyShareGroups.Where(KeyShare.IsSupported))
        {
            _keyShares.Add(KeyShare.Create(group));
        }

        if (_keyShares.Count == 0)
        {
            // The configured share's group is unusable here (no libcrypto for X25519): share the first usable one.
            _keyShares.Add(KeyShare.Create(_supportedGroups[0]));
        }

        _state = State.WaitServerHello;
        SendClientHello();
    }

    protected override void HandleMessage(HandshakeType type, ReadOnlySpan<byte> body, ReadOnlySpan<byte> message)
    {
        switch (_state, type)
        {
            case (State.WaitServerHello, HandshakeType.ServerHello):
                OnServerHello(body, message);
                break;
            case (State.WaitEncryptedExtensions, HandshakeType.EncryptedExtensions):
                OnEncryptedExtensions(body, message);
                break;
            case (State.WaitCertificate, HandshakeType.CertificateRequest) when _certificateRequestContext is null:
                OnCertificateRequest(body, message);
                break;
            case (State.WaitCertificate, HandshakeType.Certificate):
                OnCertificate(body, message);
                break;
            case (State.WaitCertificateVerify, HandshakeType.CertificateVerify):
                OnCertificateVerify(body, message);
                break;
            case (State.WaitFinished, HandshakeType.Finished):
                OnFinished(body, message);
                break;
            case (State.Connected, HandshakeType.NewSessionTicket):
                OnNewSessionTicket(body);
                break;
            default:
                throw TlsErrors.Unexpected($"Client received {type} while in {_state} (RFC 8446 §4)");
        }
    }

    protected override void DisposeCore()
    {
        foreach (var share in _keyShares)
        {
            share.Dispose();
        }

        _keyShares.Clear();
        foreach (var secret in new[] { _handshakeSecret, _clientHandshakeSecret, _serverHandshakeSecret })
        {
            if (secret is not null)
            {
                CryptographicOperations.ZeroMemory(secret);
            }
        }
    }

    private void SendClientHello()
    {
        var writer = new TlsWriter(512);
        var start = writer.BeginMessage(HandshakeType.ClientHello);
        writer.WriteUInt16(TlsConstants.LegacyVersion);
        writer.WriteBytes(_random);
        writer.WriteVector8([]); // RFC 9001 §8.4: no middlebox compatibility mode, so no legacy_session_id.
        var suites = writer.BeginVector(2);
        foreach (var suite in _config.CipherSuites)
        {
            writer.WriteUInt16((ushort)suite);
        }

        writer.EndVector(suites, 2);
        writer.WriteVector8([0]);
        var extensions = writer.BeginVector(2);

        // server_name (RFC 6066 §3): host names only, never IP literals.
        var name = _config.ServerName?.TrimEnd('.');
        if (!string.IsNullOrEmpty(name) && !IPAddress.TryParse(name, out _))
        {
            writer.WriteUInt16((ushort)ExtensionType.ServerName);
            var body = writer.BeginVector(2);
            var list = writer.BeginVector(2);
            writer.WriteUInt8(0);
            writer.WriteVector16(Encoding.ASCII.GetBytes(name));
            writer.EndVector(list, 2);
            writer.EndVector(body, 2);
        }

        writer.WriteUInt16((ushort)ExtensionType.SupportedVersions);
        var versions = writer.BeginVector(2);
        writer.WriteVector8([0x03, 0x04]);
        writer.EndVector(versions, 2);

        WriteUInt16ListExtension(writer, ExtensionType.SupportedGroups, _supportedGroups.Select(g => (ushort)g));
        WriteUInt16ListExtension(writer, ExtensionType.SignatureAlgorithms, Signatures.ClientOffered.Select(s => (ushort)s));

        writer.WriteUInt16((ushort)ExtensionType.KeyShare);
        var keyShare = writer.BeginVector(2);
        var shares = writer.BeginVector(2);
        foreach (var share in _keyShares)
        {
            writer.WriteUInt16((ushort)share.Group);
            writer.WriteVector16(share.PublicKey);
        }

        writer.EndVector(shares, 2);
        writer.EndVector(keyShare, 2);

        if (_cookie is not null)
        {
            // RFC 8446 §4.2.2: echo the HelloRetryRequest's cookie.
            writer.WriteUInt16((ushort)ExtensionType.Cookie);
            var cookie = writer.BeginVector(2);
            writer.WriteVector16(_cookie);
            writer.EndVector(cookie, 2);
        }

        writer.WriteUInt16((ushort)ExtensionType.ApplicationLayerProtocolNegotiation);
        var alpn = writer.BeginVector(2);
        var protocols = writer.BeginVector(2);
        foreach (var protocol in _config.ApplicationProtocols)
        {
            writer.WriteVector8(Encoding.UTF8.GetBytes(protocol));
        }

        writer.EndVector(protocols, 2);
        writer.EndVector(alpn, 2);

        writer.WriteUInt16((ushort)ExtensionType.QuicTransportParameters);
        writer.WriteVector16(_transportParameters);
        writer.EndVector(extensions, 2);
        AddWritten(Transcript, writer, start);
        Callbacks.WriteCryptoData(EncryptionLevel.Initial, writer.WrittenSpan);
    }

    private static void WriteUInt16ListExtension(TlsWriter writer, ExtensionType type, IEnumerable<ushort> values)
    {
        writer.WriteUInt16((ushort)type);
        var body = writer.BeginVector(2);
        var list = writer.BeginVector(2);
        foreach (var value in values)
        {
            writer.WriteUInt16(value);
        }

        writer.EndVector(list, 2);
        writer.EndVector(body, 2);
    }

    /// <summary>Handles a ServerHello or a HelloRetryRequest (RFC 8446 §4.1.3, §4.1.4).</summary>
    private void OnServerHello(ReadOnlySpan<byte> body, ReadOnlySpan<byte> message)
    {
        var reader = new TlsReader(body, "ServerHello");
        var legacyVersion = reader.ReadUInt16();
        var random = reader.ReadBytes(32);
        var sessionId = reader.ReadVector8();
        var suiteValue = reader.ReadUInt16();
        var compression = reader.ReadUInt8();
        if (reader.IsEmpty)
        {
            throw new TlsAlertException(TlsAlert.ProtocolVersion, "ServerHello without extensions is not TLS 1.3 (RFC 8446 §4.1.3)");
        }

        var extensions = reader.ReadVector16();
        reader.EnsureEnd();
        var isRetry = random.SequenceEqual(TlsConstants.HelloRetryRequestRandom);

        ushort? version = null;
        ushort? group = null;
        byte[]? keyExchange = null;
        byte[]? cookie = null;
        var seen = new HashSet<ushort>();
        var extensionReader = new TlsReader(extensions, "ServerHello extensions");
        while (!extensionReader.IsEmpty)
        {
            var type = extensionReader.ReadUInt16();
            var data = extensionReader.ReadVector16();
            if (!seen.Add(type))
            {
                throw TlsErrors.Illegal($"ServerHello repeats extension {type} (RFC 8446 §4.2)");
            }

            var field = new TlsReader(data, $"ServerHello extension {type}");
            switch ((ExtensionType)type)
            {
                case ExtensionType.SupportedVersions:
                    version = field.ReadUInt16();
                    break;
                case ExtensionType.KeyShare:
                    group = field.ReadUInt16();
                    if (!isRetry)
                    {
                        keyExchange = field.ReadVector16(min: 1).ToArray();
                    }

                    break;
                case ExtensionType.Cookie when isRetry:
                    cookie = field.ReadVector16(min: 1).ToArray();
                    break;
                default:
                    // RFC 8446 §4.1.3, §4.2: only extensions the client offered may appear (no PSK is offered).
                    throw TlsErrors.Unsupported($"ServerHello carries extension {type} the client did not offer (RFC 8446 §4.2)");
            }

            field.EnsureEnd();
        }

        // RFC 8446 §4.2.1: without supported_versions the server negotiated TLS 1.2 or older.
        if (version is null)
        {
            throw new TlsAlertException(TlsAlert.ProtocolVersion, "ServerHello selects a version older than TLS 1.3 (RFC 8446 §4.2.1)");
        }

        if (version != TlsConstants.Tls13 || legacyVersion != TlsConstants.LegacyVersion)
        {
            throw TlsErrors.Illegal($"ServerHello selects version 0x{version:x4}, which was not offered (RFC 8446 §4.2.1)");
        }

        if (!sessionId.IsEmpty)
        {
            throw TlsErrors.Illegal("ServerHello legacy_session_id_echo differs from what was sent (RFC 8446 §4.1.3)");
        }

        if (compression != 0)
        {
            throw TlsErrors.Illegal("ServerHello legacy_compression_method is not null (RFC 8446 §4.1.3)");
        }

        var suite = (TlsCipherSuite)suiteValue;
        if (!_config.CipherSuites.Contains(suite))
        {
            throw TlsErrors.Illegal($"ServerHello selects cipher suite 0x{suiteValue:x4}, which was not offered (RFC 8446 §4.1.3)");
        }

        if (isRetry)
        {
            OnHelloRetryRequest(suite, group, cookie, message);
            return;
        }

        if (_retrySuite is { } retrySuite && retrySuite != suite)
        {
            throw TlsErrors.Illegal("ServerHello cipher suite differs from the HelloRetryRequest's (RFC 8446 §4.1.4)");
        }

        if (group is null)
        {
            throw TlsErrors.Missing("ServerHello lacks key_share (RFC 8446 §9.2)");
        }

        var share = _keyShares.Find(s => (ushort)s.Group == group)
            ?? throw TlsErrors.Illegal($"ServerHello key_share group 0x{group:x4} was not offered (RFC 8446 §4.2.8)");
        var sharedSecret = share.DeriveSharedSecret(keyExchange!);

        SetCipherSuite(suite);
        KeyExchangeGroup = share.Group;
        Transcript.Add(message);
        _handshakeSecret = TlsKeySchedule.HandshakeSecret(Hash, sharedSecret);
        CryptographicOperations.ZeroMemory(sharedSecret);
        var helloHash = Transcript.CurrentHash();
        _clientHandshakeSecret = TlsKeySchedule.DeriveSecret(Hash, _handshakeSecret, "c hs traffic", helloHash);
        _serverHandshakeSecret = TlsKeySchedule.DeriveSecret(Hash, _handshakeSecret, "s hs traffic", helloHash);
        foreach (var used in _keyShares)
        {
            used.Dispose();
        }

        _keyShares.Clear();
        ReadLevel = EncryptionLevel.Handshake;
        _state = State.WaitEncryptedExtensions;
        InstallSecret(EncryptionLevel.Handshake, isWrite: false, _serverHandshakeSecret, "SERVER_HANDSHAKE_TRAFFIC_SECRET", _random);
        InstallSecret(EncryptionLevel.Handshake, isWrite: true, _clientHandshakeSecret, "CLIENT_HANDSHAKE_TRAFFIC_SECRET", _random);
    }

    private void OnHelloRetryRequest(TlsCipherSuite suite, ushort? group, byte[]? cookie, ReadOnlySpan<byte> message)
    {
        if (_retrySuite is not null)
        {
            throw TlsErrors.Unexpected("A second HelloRetryRequest (RFC 8446 §4.1.4)");
        }

        if (group is null && cookie is null)
        {
            throw TlsErrors.Illegal("HelloRetryRequest would not change the ClientHello (RFC 8446 §4.1.4)");
        }

        if (group is { } wanted)
        {
            // RFC 8446 §4.2.8: the group must be offered in supported_groups and not already have a share.
            if (!_supportedGroups.Contains((NamedGroup)wanted)
                || _keyShares.Exists(s => (ushort)s.Group == wanted))
            {
                throw TlsErrors.Illegal($"HelloRetryRequest asks for group 0x{wanted:x4}, which is not acceptable (RFC 8446 §4.2.8)");
            }
        }

        // RFC 8446 §4.4.1: the transcript continues from message_hash(ClientHello1) and the HRR.
        SetCipherSuite(suite);
        Transcript.ReplaceWithMessageHash();
        Transcript.Add(message);
        _retrySuite = suite;
        HelloRetryRequested = true;
        _cookie = cookie;
        if (group is { } newGroup)
        {
            foreach (var old in _keyShares)
            {
                old.Dispose();
            }

            _keyShares.Clear();
            _keyShares.Add(KeyShare.Create((NamedGroup)newGroup));
        }

        SendClientHello();
    }

    private void OnEncryptedExtensions(ReadOnlySpan<byte> body, ReadOnlySpan<byte> message)
    {
        var reader = new TlsReader(body, "EncryptedExtensions");
        var extensions = reader.ReadVector16();
        reader.EnsureEnd();
        var seen = new HashSet<ushort>();
        var extensionReader = new TlsReader(extensions, "EncryptedExtensions extensions");
        while (!extensionReader.IsEmpty)
        {
            var type = extensionReader.ReadUInt16();
            var data = extensionReader.ReadVector16();
            if (!seen.Add(type))
            {
                throw TlsErrors.Illegal($"EncryptedExtensions repeats extension {type} (RFC 8446 §4.2)");
            }

            switch ((ExtensionType)type)
            {
                case ExtensionType.ApplicationLayerProtocolNegotiation:
                    NegotiatedApplicationProtocol = ReadSelectedProtocol(data);
                    break;
                case ExtensionType.QuicTransportParameters:
                    PeerTransportParameters = data.ToArray();
                    break;
                case ExtensionType.ServerName:
                    // RFC 6066 §3: the server acknowledges server_name with an empty extension.
                    if (!data.IsEmpty)
                    {
                        throw TlsErrors.Decode("EncryptedExtensions server_name is not empty (RFC 6066 §3)");
                    }

                    break;
                case ExtensionType.SupportedGroups:
                    // RFC 8446 §4.2.7: the server may tell its preferred groups; the client may ignore them.
                    break;
                default:
                    throw TlsErrors.Unsupported($"EncryptedExtensions carries extension {type} the client did not offer (RFC 8446 §4.2)");
            }
        }

        if (NegotiatedApplicationProtocol is null)
        {
            throw new TlsAlertException(TlsAlert.NoApplicationProtocol, "The server selected no ALPN protocol (RFC 9001 §8.1)");
        }

        if (PeerTransportParameters is null)
        {
            throw TlsErrors.Missing("EncryptedExtensions lacks quic_transport_parameters (RFC 9001 §8.2)");
        }

        Transcript.Add(message);
        _state = State.WaitCertificate;
    }

    private string ReadSelectedProtocol(ReadOnlySpan<byte> data)
    {
        // RFC 7301 §3.1: the server's list holds exactly one protocol, one the client offered.
        var reader = new TlsReader(data, "application_layer_protocol_negotiation");
        var list = reader.ReadVector16(min: 2);
        reader.EnsureEnd();
        var names = new TlsReader(list, "ALPN protocol_name_list");
        var selected = names.ReadVector8(min: 1);
        if (!names.IsEmpty)
        {
            throw TlsErrors.Illegal("The server's ALPN list has more than one protocol (RFC 7301 §3.1)");
        }

        foreach (var offered in _config.ApplicationProtocols)
        {
            if (selected.SequenceEqual(Encoding.UTF8.GetBytes(offered)))
            {
                return offered;
            }
        }

        throw TlsErrors.Illegal("The server selected an ALPN protocol the client did not offer (RFC 7301 §3.2)");
    }

    private void OnCertificateRequest(ReadOnlySpan<byte> body, ReadOnlySpan<byte> message)
    {
        // RFC 8446 §4.3.2: certificate_request_context<0..2^8-1>; Extension extensions<2..2^16-1>.
        var reader = new TlsReader(body, "CertificateRequest");
        var context = reader.ReadVector8();
        reader.ReadVector16(min: 2);
        reader.EnsureEnd();
        _certificateRequestContext = context.ToArray();
        Transcript.Add(message);
    }

    private void OnCertificate(ReadOnlySpan<byte> body, ReadOnlySpan<byte> message)
    {
        var reader = new TlsReader(body, "Certificate");
        var context = reader.ReadVector8();
        var list = reader.ReadVector24();
        reader.EnsureEnd();
        if (!context.IsEmpty)
        {
            throw TlsErrors.Illegal("The server's Certificate has a request context (RFC 8446 §4.4.2)");
        }

        var entries = new List<byte[]>();
        var entryReader = new TlsReader(list, "CertificateEntry");
        while (!entryReader.IsEmpty)
        {
            var data = entryReader.ReadVector24(min: 1);
            entryReader.ReadVector16();
            if (entries.Count == MaxCertificates)
            {
                throw new TlsAlertException(TlsAlert.BadCertificate, $"The server sent more than {MaxCertificates} certificates");
            }

            entries.Add(data.ToArray());
        }

        if (entries.Count == 0)
        {
            throw TlsErrors.Decode("The server sent an empty Certificate (RFC 8446 §4.4.2.4)");
        }

        var leaf = Load(entries[0]);
        var intermediates = new List<X509Certificate2>(entries.Count - 1);
        try
        {
            for (var i = 1; i < entries.Count; i++)
            {
                intermediates.Add(Load(entries[i]));
            }

            CertificateValidator.Validate(_config, leaf, intermediates);
        }
        catch
        {
            leaf.Dispose();
            throw;
        }
        finally
        {
            foreach (var intermediate in intermediates)
            {
                intermediate.Dispose();
            }
        }

        PeerCertificate = leaf;
        Transcript.Add(message);
        _state = State.WaitCertificateVerify;
    }

    private static X509Certificate2 Load(byte[] der)
    {
        try
        {
            return X509CertificateLoader.LoadCertificate(der);
        }
        catch (CryptographicException e)
        {
            throw new TlsAlertException(TlsAlert.BadCertificate, "A server certificate does not parse (RFC 8446 §4.4.2)", e);
        }
    }

    private void OnCertificateVerify(ReadOnlySpan<byte> body, ReadOnlySpan<byte> message)
    {
        var reader = new TlsReader(body, "CertificateVerify");
        var scheme = (SignatureScheme)reader.ReadUInt16();
        var signature = reader.ReadVector16(min: 1);
        reader.EnsureEnd();
        if (!Signatures.ClientOffered.Contains(scheme))
        {
            throw TlsErrors.Illegal($"CertificateVerify uses scheme 0x{(ushort)scheme:x4}, which was not offered (RFC 8446 §4.4.3)");
        }

        var content = Signatures.Content(server: true, Transcript.CurrentHash());
        if (!Signatures.Verify(PeerCertificate!, scheme, content, signature))
        {
            throw new TlsAlertException(TlsAlert.DecryptError, "CertificateVerify signature does not verify (RFC 8446 §4.4.3)");
        }

        Transcript.Add(message);
        _state = State.WaitFinished;
    }

    private void OnFinished(ReadOnlySpan<byte> body, ReadOnlySpan<byte> message)
    {
        if (body.Length != HashLength)
        {
            throw TlsErrors.Decode($"Finished is {body.Length} bytes, not {HashLength} (RFC 8446 §4.4.4)");
        }

        var expected = TlsKeySchedule.FinishedVerifyData(Hash, _serverHandshakeSecret!, Transcript.CurrentHash());
        if (!CryptographicOperations.FixedTimeEquals(expected, body))
        {
            throw new TlsAlertException(TlsAlert.DecryptError, "Server Finished does not verify (RFC 8446 §4.4.4)");
        }

        Transcript.Add(message);
        var masterSecret = TlsKeySchedule.MasterSecret(Hash, _handshakeSecret!);
        var finishedHash = Transcript.CurrentHash();
        var clientApplicationSecret = TlsKeySchedule.DeriveSecret(Hash, masterSecret, "c ap traffic", finishedHash);
        var serverApplicationSecret = TlsKeySchedule.DeriveSecret(Hash, masterSecret, "s ap traffic", finishedHash);
        CryptographicOperations.ZeroMemory(masterSecret);
        ReadLevel = EncryptionLevel.Application;
        _state = State.Connected;
        InstallSecret(EncryptionLevel.Application, isWrite: false, serverApplicationSecret, "SERVER_TRAFFIC_SECRET_0", _random);

        var flight = new TlsWriter(128);
        if (_certificateRequestContext is not null)
        {
            // RFC 8446 §4.4.2: a client without a suitable certificate answers with an empty list.
            var certificateStart = flight.BeginMessage(HandshakeType.Certificate);
            flight.WriteVector8(_certificateRequestContext);
            flight.WriteUInt24(0);
            AddWritten(Transcript, flight, certificateStart);
        }

        var finishedStart = flight.BeginMessage(HandshakeType.Finished);
        flight.WriteBytes(TlsKeySchedule.FinishedVerifyData(Hash, _clientHandshakeSecret!, Transcript.CurrentHash()));
        AddWritten(Transcript, flight, finishedStart);
        Callbacks.WriteCryptoData(EncryptionLevel.Handshake, flight.WrittenSpan);
        InstallSecret(EncryptionLevel.Application, isWrite: true, clientApplicationSecret, "CLIENT_TRAFFIC_SECRET_0", _random);
        CryptographicOperations.ZeroMemory(clientApplicationSecret);
        CryptographicOperations.ZeroMemory(serverApplicationSecret);
        IsHandshakeComplete = true;
        Callbacks.OnHandshakeCompleted();
    }

    private static void OnNewSessionTicket(ReadOnlySpan<byte> body)
    {
        // RFC 8446 §4.6.1: parsed for well-formedness, then dropped; this client does not resume.
        var reader = new TlsReader(body, "NewSessionTicket");
        reader.ReadUInt32();
        reader.ReadUInt32();
        reader.ReadVector8();
        reader.ReadVector16(min: 1);
        reader.ReadVector16();
        reader.EnsureEnd();
    }
}
