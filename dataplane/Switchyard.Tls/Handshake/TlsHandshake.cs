using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Switchyard.Tls.Crypto;
using Switchyard.Tls.Messages;

namespace Switchyard.Tls.Handshake;

/// <summary>
/// What client and server share: cutting CRYPTO data into messages per level, failure latching, key logging and
/// handing secrets to QUIC.
/// </summary>
internal abstract class TlsHandshake : IQuicTlsHandshake
{
    private readonly HandshakeReassembler _reassembler = new();
    private readonly Action<string>? _keyLog;
    private TlsAlertException? _failure;
    private bool _disposed;

    protected TlsHandshake(IQuicTlsCallbacks callbacks, Action<string>? keyLog)
    {
        Callbacks = callbacks;
        _keyLog = keyLog;
    }

    public bool IsHandshakeComplete { get; protected set; }

    public string? NegotiatedApplicationProtocol { get; protected set; }

    public ReadOnlyMemory<byte>? PeerTransportParameters { get; protected set; }

    public string? ServerName { get; protected set; }

    public X509Certificate2? PeerCertificate { get; protected set; }

    public TlsCipherSuite? CipherSuite { get; protected set; }

    /// <summary>The (EC)DHE group the handshake settled on, once known.</summary>
    internal NamedGroup? KeyExchangeGroup { get; set; }

    /// <summary>True when a HelloRetryRequest was sent (server) or received (client).</summary>
    internal bool HelloRetryRequested { get; set; }

    protected IQuicTlsCallbacks Callbacks { get; }

    protected Transcript Transcript { get; } = new();

    /// <summary>The level the next handshake message must arrive at (RFC 9001 §4.1.3, §4.1.4).</summary>
    protected EncryptionLevel ReadLevel { get; set; } = EncryptionLevel.Initial;

    protected HashAlgorithmName Hash { get; private set; }

    public virtual void Start()
    {
        Guard(() => OnStart());
    }

    public void ProcessCryptoData(EncryptionLevel level, ReadOnlySpan<byte> data)
    {
        if (_failure is not null)
        {
            throw new TlsAlertException(_failure.Alert, "The handshake has already failed: " + _failure.Message);
        }

        if (_disposed)
        {
            throw new TlsAlertException(TlsAlert.InternalError, "The handshake is disposed.");
        }

        try
        {
            // :: Step 1. RFC 8446 §5.1 / RFC 9001 §4.1.3: messages may not span a key change, and each message
            // has one level. Data at another level than the one expected is an unexpected_message.
            while (!data.IsEmpty)
            {
                if (level != ReadLevel)
                {
                    throw TlsErrors.Unexpected($"CRYPTO data at {level} while the handshake reads at {ReadLevel} (RFC 9001 §4.1.3)");
                }

                // :: Step 2. Take one whole message at a time; the state machine may move ReadLevel after it.
                if (!_reassembler.TryTake(ref data, out var message))
                {
                    break;
                }

                var type = (HandshakeType)message[0];
                if (type is HandshakeType.KeyUpdate or HandshakeType.EndOfEarlyData)
                {
                    // RFC 9001 §6 and §8.3: QUIC replaces both; receiving either is unexpected_message.
                    throw TlsErrors.Unexpected($"{type} is forbidden in QUIC (RFC 9001 §6, §8.3)");
                }

                HandleMessage(type, message[4..], message);
            }
        }
        catch (TlsAlertException e)
        {
            _failure = e;
            throw;
        }
        catch (Exception e)
        {
            _failure = new TlsAlertException(TlsAlert.InternalError, "Internal error in the TLS handshake: " + e.Message, e);
            throw _failure;
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Transcript.Dispose();
        DisposeCore();
    }

    protected abstract void OnStart();

    /// <summary>Handles one whole handshake message received at <see cref="ReadLevel"/>.</summary>
    /// <param name="type">Its type.</param>
    /// <param name="body">Its body, without the 4-byte header.</param>
    /// <param name="message">The whole message, for the transcript.</param>
    protected abstract void HandleMessage(HandshakeType type, ReadOnlySpan<byte> body, ReadOnlySpan<byte> message);

    protected virtual void DisposeCore()
    {
    }

    protected void SetCipherSuite(TlsCipherSuite suite)
    {
        CipherSuite = suite;
        Hash = TlsKeySchedule.GetHashAlgorithm(suite);
        if (!Transcript.HasHash)
        {
            Transcript.SetHashAlgorithm(Hash);
        }
    }

    protected int HashLength => TlsKeySchedule.HashLength(Hash);

    /// <summary>Hands a traffic secret to QUIC and logs it in NSS key-log format.</summary>
    protected void InstallSecret(EncryptionLevel level, bool isWrite, byte[] secret, string keyLogLabel, ReadOnlySpan<byte> clientRandom)
    {
        LogKey(keyLogLabel, clientRandom, secret);
        Callbacks.SetSecret(level, isWrite, CipherSuite!.Value, secret);
    }

    protected void LogKey(string label, ReadOnlySpan<byte> clientRandom, ReadOnlySpan<byte> secret)
    {
        if (_keyLog is null)
        {
            return;
        }

        try
        {
            _keyLog($"{label} {Convert.ToHexStringLower(clientRandom)} {Convert.ToHexStringLower(secret)}");
        }
#pragma warning disable CA1031 // A diagnostic sink must never break the handshake.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    /// <summary>Frames <paramref name="writer"/>'s message as a handshake message and records it in the transcript.</summary>
    protected static void AddWritten(Transcript transcript, TlsWriter writer, int start)
    {
        writer.EndMessage(start);
        transcript.Add(writer.WrittenSpan[start..]);
    }

    private void Guard(Action action)
    {
        if (_failure is not null)
        {
            throw new TlsAlertException(_failure.Alert, "The handshake has already failed: " + _failure.Message);
        }

        try
        {
            action();
        }
        catch (TlsAlertException e)
        {
            _failure = e;
            throw;
        }
        catch (Exception e)
        {
            _failure = new TlsAlertException(TlsAlert.InternalError, "Internal error in the TLS handshake: " + e.Message, e);
            throw _failure;
        }
    }
}
