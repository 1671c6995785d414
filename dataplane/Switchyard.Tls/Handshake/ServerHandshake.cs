using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Switchyard.Tls.Crypto;
using Switchyard.Tls.Messages;

namespace Switchyard.Tls.Handshake;

/// <summary>
/// The server side of a full TLS 1.3 handshake for QUIC (RFC 8446 §2, RFC 9001 §4): no PSK, no 0-RTT, no client
/// certificates, and no middlebox compatibility mode (RFC 9001 §8.4).
/// </summary>
internal sealed class ServerHandshake : TlsHandshake
{
    private readonly TlsServerConfig _config;
    private readonly byte[] _transportParameters;
    private State _state;
    private ClientHello? _firstHello;
    private TlsCipherSuite _retrySuite;
    private NamedGroup _retryGroup;
    private byte[] _clientRandom = [];
    private byte[]? _clientHandshakeSecret;
    private byte[]? _clientApplicationSecret;

    public ServerHandshake(TlsServerConfig config, IQuicTlsCallbacks callbacks, byte[] transportParameters)
        : base(callbacks, config.KeyLog)
    {
        _config = config;
        _transportParameters = transportParameters;
    }

    private enum State
    {
        WaitClientHello,
        WaitSecondClientHello,
        WaitClientCertificate,
        WaitFinished,
        Connected,
    }

    protected override void OnStart()
    {
        // The server speaks second: nothing to write until the ClientHello arrives.
    }

    protected override void HandleMessage(HandshakeType type, ReadOnlySpan<byte> body, ReadOnlySpan<byte> message)
    {
        switch (_state)
        {
            case State.WaitClientHello or State.WaitSecondClientHello when type == HandshakeType.ClientHello:
                OnClientHello(body, message);
                break;
            case State.WaitClientCertificate when type == HandshakeType.Certificate:
                OnClientCertificate(body, message);
                break;
            case State.WaitFinished when type == HandshakeType.Finished:
                OnFinished(body, message);
                break;
            default:
                // RFC 8446 §4: messages must come in the order the handshake defines.
                throw TlsErrors.Unexpected($"Server received {type} while in {_state} (RFC 8446 §4)");
        }
    }

    protected override void DisposeCore()
    {
        Zero(_clientHandshakeSecret);
        Zero(_clientApplicationSecret);
    }

    /// <summary>Answers a ClientHello with a HelloRetryRequest or with the whole server flight.</summary>
    /// <remarks>
    /// 1. Parse, then hold it to TLS 1.3 and QUIC's mandatory extensions.
    /// 2. Choose cipher suite (client order, filtered by ours), ALPN (our order), certificate and signature scheme.
    /// 3. Choose the group by our preference; without a share for it, ask for one by HelloRetryRequest.
    /// 4. Otherwise send ServerHello, EncryptedExtensions, Certificate, CertificateVerify and Finished.
    /// </remarks>
    private void OnClientHello(ReadOnlySpan<byte> body, ReadOnlySpan<byte> message)
    {
        // :: Step 1
        var hello = ClientHello.Parse(body);
        Transcript.Add(message);
        if (hello.SupportedVersions is null || !hello.SupportedVersions.Contains(TlsConstants.Tls13))
        {
            throw new TlsAlertException(TlsAlert.ProtocolVersion, "The client does not offer TLS 1.3 (RFC 8446 §4.2.1, RFC 9001 §4.2)");
        }

        if (hello.TransportParameters is null)
        {
            throw TlsErrors.Missing("ClientHello lacks quic_transport_parameters (RFC 9001 §8.2)");
        }

        if (hello.SignatureAlgorithms is null)
        {
            throw TlsErrors.Missing("ClientHello lacks signature_algorithms (RFC 8446 §9.2)");
        }

        if (hello.SupportedGroups is null || hello.KeyShares is null)
        {
            throw TlsErrors.Missing("ClientHello lacks supported_groups or key_share (RFC 8446 §9.2)");
        }

        // :: Step 2
        var suite = ChooseCipherSuite(hello) ?? throw TlsErrors.Failure("No cipher suite in common (RFC 8446 §4.1.1)");
        var protocol = ChooseApplicationProtocol(hello);
        ServerName = hello.ServerName;
        var certificate = _config.CertificateSelector?.Invoke(hello.ServerName) ?? _config.Certificate;
        var scheme = Signatures.ChooseServerScheme(certificate, hello.SignatureAlgorithms)
            ?? throw TlsErrors.Failure("No signature scheme in common for the server certificate (RFC 8446 §4.2.3)");

        // :: Step 3
        foreach (var share in hello.KeyShares)
        {
            if (!hello.SupportedGroups.Contains(share.Group))
            {
                throw TlsErrors.Illegal($"key_share for group 0x{share.Group:x4} that supported_groups lacks (RFC 8446 §4.2.8)");
            }
        }

        NamedGroup? chosen = null;
        foreach (var candidate in _config.Groups)
        {
            if (KeyShare.IsSupported(candidate) && hello.SupportedGroups.Contains((ushort)candidate))
            {
                chosen = candidate;
                break;
            }
        }

        var group = chosen ?? throw TlsErrors.Failure("No named group in common (RFC 8446 §4.2.7)");
        var clientShare = hello.KeyShares.Find(s => s.Group == (ushort)group);
        if (_state == State.WaitSecondClientHello)
        {
            CheckSecondClientHello(hello, suite, group);
        }
        else if (clientShare.KeyExchange is null)
        {
            SendHelloRetryRequest(hello, suite, group);
            return;
        }

        // :: Step 4
        SendServerFlight(hello, suite, group, clientShare.KeyExchange!, protocol, certificate, scheme);
    }

    private TlsCipherSuite? ChooseCipherSuite(ClientHello hello)
    {
        foreach (var offered in hello.CipherSuites)
        {
            foreach (var ours in _config.CipherSuites)
            {
                if ((ushort)ours == offered)
                {
                    return ours;
                }
            }
        }

        return null;
    }

    private string ChooseApplicationProtocol(ClientHello hello)
    {
        // RFC 9001 §8.1: QUIC requires ALPN; no overlap (or no ALPN) is no_application_protocol (RFC 7301 §3.2).
        if (hello.ApplicationProtocols is not null)
        {
            foreach (var ours in _config.ApplicationProtocols)
            {
                var bytes = Encoding.UTF8.GetBytes(ours);
                if (hello.ApplicationProtocols.Exists(p => p.AsSpan().SequenceEqual(bytes)))
                {
                    return ours;
                }
            }
        }

        throw new TlsAlertException(TlsAlert.NoApplicationProtocol, "No ALPN protocol in common (RFC 7301 §3.2, RFC 9001 §8.1)");
    }

    private void CheckSecondClientHello(ClientHello hello, TlsCipherSuite suite, NamedGroup group)
    {
        // RFC 8446 §4.1.2: the second ClientHello is the first one with the key_share replaced (and a cookie).
        var first = _firstHello!;
        if (!hello.Random.AsSpan().SequenceEqual(first.Random) || !hello.SessionId.AsSpan().SequenceEqual(first.SessionId))
        {
            throw TlsErrors.Illegal("Second ClientHello changed random or legacy_session_id (RFC 8446 §4.1.2)");
        }

        if (suite != _retrySuite)
        {
            throw TlsErrors.Illegal("Second ClientHello leads to another cipher suite than the HelloRetryRequest (RFC 8446 §4.1.4)");
        }

        if (group != _retryGroup || hello.KeyShares!.Count != 1 || hello.KeyShares[0].Group != (ushort)_retryGroup)
        {
            throw TlsErrors.Illegal("Second ClientHello must carry exactly one key_share, for the group asked for (RFC 8446 §4.2.8)");
        }

        if (hello.EarlyData)
        {
            throw TlsErrors.Illegal("Second ClientHello must not offer early_data (RFC 8446 §4.2.10)");
        }
    }

    private void SendHelloRetryRequest(ClientHello hello, TlsCipherSuite suite, NamedGroup group)
    {
        // RFC 8446 §4.4.1: the transcript restarts from message_hash(ClientHello1) once the HRR is sent.
        SetCipherSuite(suite);
        Transcript.ReplaceWithMessageHash();

        var writer = new TlsWriter(128);
        var start = writer.BeginMessage(HandshakeType.ServerHello);
        writer.WriteUInt16(TlsConstants.LegacyVersion);
        writer.WriteBytes(TlsConstants.HelloRetryRequestRandom);
        writer.WriteVector8(hello.SessionId);
        writer.WriteUInt16((ushort)suite);
        writer.WriteUInt8(0);
        var extensions = writer.BeginVector(2);
        WriteSupportedVersion(writer);
        writer.WriteUInt16((ushort)ExtensionType.KeyShare);
        var share = writer.BeginVector(2);
        writer.WriteUInt16((ushort)group);
        writer.EndVector(share, 2);
        writer.EndVector(extensions, 2);
        AddWritten(Transcript, writer, start);

        _firstHello = hello;
        HelloRetryRequested = true;
        _retrySuite = suite;
        _retryGroup = group;
        _state = State.WaitSecondClientHello;
        Callbacks.WriteCryptoData(EncryptionLevel.Initial, writer.WrittenSpan);
    }

    private void SendServerFlight(
        ClientHello hello,
        TlsCipherSuite suite,
        NamedGroup group,
        byte[] clientKeyExchange,
        string protocol,
        X509Certificate2 certificate,
        SignatureScheme scheme)
    {
        SetCipherSuite(suite);
        KeyExchangeGroup = group;
        _clientRandom = hello.Random;
        NegotiatedApplicationProtocol = protocol;
        PeerTransportParameters = hello.TransportParameters;

        byte[] sharedSecret;
        var serverShare = KeyShare.Create(group);
        var serverHello = new TlsWriter(256);
        using (serverShare)
        {
            sharedSecret = serverShare.DeriveSharedSecret(clientKeyExchange);

            // ServerHello (RFC 8446 §4.1.3): legacy_session_id echoed as sent, compression null.
            var start = serverHello.BeginMessage(HandshakeType.ServerHello);
            serverHello.WriteUInt16(TlsConstants.LegacyVersion);
            serverHello.WriteBytes(RandomNumberGenerator.GetBytes(32));
            serverHello.WriteVector8(hello.SessionId);
            serverHello.WriteUInt16((ushort)suite);
            serverHello.WriteUInt8(0);
            var extensions = serverHello.BeginVector(2);
            WriteSupportedVersion(serverHello);
            serverHello.WriteUInt16((ushort)ExtensionType.KeyShare);
            var entry = serverHello.BeginVector(2);
            serverHello.WriteUInt16((ushort)group);
            serverHello.WriteVector16(serverShare.PublicKey);
            serverHello.EndVector(entry, 2);
            serverHello.EndVector(extensions, 2);
            AddWritten(Transcript, serverHello, start);
        }

        Callbacks.WriteCryptoData(EncryptionLevel.Initial, serverHello.WrittenSpan);

        var handshakeSecret = TlsKeySchedule.HandshakeSecret(Hash, sharedSecret);
        Zero(sharedSecret);
        var helloHash = Transcript.CurrentHash();
        _clientHandshakeSecret = TlsKeySchedule.DeriveSecret(Hash, handshakeSecret, "c hs traffic", helloHash);
        var serverHandshakeSecret = TlsKeySchedule.DeriveSecret(Hash, handshakeSecret, "s hs traffic", helloHash);
        ReadLevel = EncryptionLevel.Handshake;
        _state = _config.RequestClientCertificate ? State.WaitClientCertificate : State.WaitFinished;
        InstallSecret(EncryptionLevel.Handshake, isWrite: false, _clientHandshakeSecret, "CLIENT_HANDSHAKE_TRAFFIC_SECRET", _clientRandom);
        InstallSecret(EncryptionLevel.Handshake, isWrite: true, serverHandshakeSecret, "SERVER_HANDSHAKE_TRAFFIC_SECRET", _clientRandom);

        var flight = new TlsWriter(4096);
        WriteEncryptedExtensions(flight, protocol);
        if (_config.RequestClientCertificate)
        {
            WriteCertificateRequest(flight);
        }

        WriteCertificate(flight, certificate);

        // CertificateVerify (RFC 8446 §4.4.3) signs the transcript through Certificate.
        var content = Signatures.Content(server: true, Transcript.CurrentHash());
        var signature = Signatures.Sign(certificate, scheme, content);
        var verifyStart = flight.BeginMessage(HandshakeType.CertificateVerify);
        flight.WriteUInt16((ushort)scheme);
        flight.WriteVector16(signature);
        AddWritten(Transcript, flight, verifyStart);

        // Finished (RFC 8446 §4.4.4).
        var finishedStart = flight.BeginMessage(HandshakeType.Finished);
        flight.WriteBytes(TlsKeySchedule.FinishedVerifyData(Hash, serverHandshakeSecret, Transcript.CurrentHash()));
        AddWritten(Transcript, flight, finishedStart);
        Callbacks.WriteCryptoData(EncryptionLevel.Handshake, flight.WrittenSpan);

        // RFC 8446 §7.1: application secrets hash the transcript through the server Finished. The server may send
        // 1-RTT data now (RFC 9001 §5.7 "0.5-RTT"); it reads 1-RTT only once the client's Finished is verified.
        var masterSecret = TlsKeySchedule.MasterSecret(Hash, handshakeSecret);
        var finishedHash = Transcript.CurrentHash();
        _clientApplicationSecret = TlsKeySchedule.DeriveSecret(Hash, masterSecret, "c ap traffic", finishedHash);
        var serverApplicationSecret = TlsKeySchedule.DeriveSecret(Hash, masterSecret, "s ap traffic", finishedHash);
        LogKey("CLIENT_TRAFFIC_SECRET_0", _clientRandom, _clientApplicationSecret);
        InstallSecret(EncryptionLevel.Application, isWrite: true, serverApplicationSecret, "SERVER_TRAFFIC_SECRET_0", _clientRandom);
        Zero(handshakeSecret);
        Zero(masterSecret);
        Zero(serverHandshakeSecret);
        Zero(serverApplicationSecret);
    }

    private void WriteEncryptedExtensions(TlsWriter writer, string protocol)
    {
        // RFC 8446 §4.3.1, RFC 7301 §3.1 (exactly one protocol), RFC 9001 §8.2.
        var start = writer.BeginMessage(HandshakeType.EncryptedExtensions);
        var extensions = writer.BeginVector(2);
        writer.WriteUInt16((ushort)ExtensionType.ApplicationLayerProtocolNegotiation);
        var alpn = writer.BeginVector(2);
        var list = writer.BeginVector(2);
        writer.WriteVector8(Encoding.UTF8.GetBytes(protocol));
        writer.EndVector(list, 2);
        writer.EndVector(alpn, 2);
        writer.WriteUInt16((ushort)ExtensionType.QuicTransportParameters);
        writer.WriteVector16(_transportParameters);
        writer.EndVector(extensions, 2);
        AddWritten(Transcript, writer, start);
    }

    private void WriteCertificateRequest(TlsWriter writer)
    {
        // RFC 8446 §4.3.2: empty context (required during the handshake) and the mandatory signature_algorithms.
        var start = writer.BeginMessage(HandshakeType.CertificateRequest);
        writer.WriteVector8([]);
        var extensions = writer.BeginVector(2);
        writer.WriteUInt16((ushort)ExtensionType.SignatureAlgorithms);
        var body = writer.BeginVector(2);
        var list = writer.BeginVector(2);
        writer.WriteUInt16((ushort)SignatureScheme.EcdsaSecp256r1Sha256);
        writer.WriteUInt16((ushort)SignatureScheme.RsaPssRsaeSha256);
        writer.EndVector(list, 2);
        writer.EndVector(body, 2);
        writer.EndVector(extensions, 2);
        AddWritten(Transcript, writer, start);
    }

    private void OnClientCertificate(ReadOnlySpan<byte> body, ReadOnlySpan<byte> message)
    {
        var reader = new TlsReader(body, "Certificate");
        var context = reader.ReadVector8();
        var list = reader.ReadVector24();
        reader.EnsureEnd();
        if (!context.IsEmpty)
        {
            throw TlsErrors.Illegal("Client Certificate context differs from the CertificateRequest's (RFC 8446 §4.4.2)");
        }

        if (!list.IsEmpty)
        {
            // Client authentication is not implemented: only the empty answer is understood.
            throw new TlsAlertException(TlsAlert.UnsupportedCertificate, "Client certificates are not supported by this server");
        }

        Transcript.Add(message);
        _state = State.WaitFinished;
    }

    private void WriteCertificate(TlsWriter writer, X509Certificate2 certificate)
    {
        // RFC 8446 §4.4.2: empty request context, then CertificateEntry { cert_data<1..2^24-1>; extensions<0..2^16-1> }.
        var start = writer.BeginMessage(HandshakeType.Certificate);
        writer.WriteVector8([]);
        var list = writer.BeginVector(3);
        writer.WriteVector24(certificate.RawDataMemory.Span);
        writer.WriteUInt16(0);
        if (ReferenceEquals(certificate, _config.Certificate) && _config.Chain is not null)
        {
            foreach (var intermediate in _config.Chain)
            {
                writer.WriteVector24(intermediate.RawDataMemory.Span);
                writer.WriteUInt16(0);
            }
        }

        writer.EndVector(list, 3);
        AddWritten(Transcript, writer, start);
    }

    private void OnFinished(ReadOnlySpan<byte> body, ReadOnlySpan<byte> message)
    {
        if (body.Length != HashLength)
        {
            throw TlsErrors.Decode($"Finished is {body.Length} bytes, not {HashLength} (RFC 8446 §4.4.4)");
        }

        var expected = TlsKeySchedule.FinishedVerifyData(Hash, _clientHandshakeSecret!, Transcript.CurrentHash());
        if (!CryptographicOperations.FixedTimeEquals(expected, body))
        {
            throw new TlsAlertException(TlsAlert.DecryptError, "Client Finished does not verify (RFC 8446 §4.4.4)");
        }

        Transcript.Add(message);

        // RFC 9001 §4.1.2: the handshake is complete once our Finished is sent and the peer's verified. Nothing but
        // unexpected messages can follow at 1-RTT: the client sends no post-handshake messages in QUIC.
        ReadLevel = EncryptionLevel.Application;
        _state = State.Connected;
        IsHandshakeComplete = true;
        Callbacks.SetSecret(EncryptionLevel.Application, isWrite: false, CipherSuite!.Value, _clientApplicationSecret);
        Zero(_clientHandshakeSecret);
        Callbacks.OnHandshakeCompleted();
    }

    private static void WriteSupportedVersion(TlsWriter writer)
    {
        writer.WriteUInt16((ushort)ExtensionType.SupportedVersions);
        var body = writer.BeginVector(2);
        writer.WriteUInt16(TlsConstants.Tls13);
        writer.EndVector(body, 2);
    }

    private static void Zero(byte[]? secret)
    {
        if (secret is not null)
        {
            CryptographicOperations.ZeroMemory(secret);
        }
    }
}
