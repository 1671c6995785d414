using System.Security.Cryptography;
using Switchyard.Tls.Messages;

namespace Switchyard.Tls.Crypto;

/// <summary>
/// The handshake transcript hash (RFC 8446 §4.4.1). Messages are kept until the cipher suite names the hash,
/// then hashed incrementally.
/// </summary>
internal sealed class Transcript : IDisposable
{
    private readonly TlsWriter _pending = new(1024);
    private IncrementalHash? _hash;

    public bool HasHash => _hash is not null;

    public void Add(ReadOnlySpan<byte> message)
    {
        if (_hash is null)
        {
            _pending.WriteBytes(message);
        }
        else
        {
            _hash.AppendData(message);
        }
    }

    /// <summary>Fixes the hash once the cipher suite is chosen and hashes what was kept so far.</summary>
    public void SetHashAlgorithm(HashAlgorithmName algorithm)
    {
        if (_hash is not null)
        {
            throw new InvalidOperationException("The transcript hash is already chosen.");
        }

        _hash = IncrementalHash.CreateHash(algorithm);
        _hash.AppendData(_pending.WrittenSpan);
    }

    /// <summary>Hash of the messages so far.</summary>
    public byte[] CurrentHash() => Hash.GetCurrentHash();

    /// <summary>
    /// Replaces ClientHello1 with the synthetic message_hash message before a HelloRetryRequest is added
    /// (RFC 8446 §4.4.1): <c>message_hash(254) || 00 00 Hash.length || Hash(ClientHello1)</c>.
    /// </summary>
    public void ReplaceWithMessageHash()
    {
        var clientHello1Hash = Hash.GetHashAndReset();
        Span<byte> header = [(byte)HandshakeType.MessageHash, 0, 0, (byte)clientHello1Hash.Length];
        _hash!.AppendData(header);
        _hash.AppendData(clientHello1Hash);
    }

    public void Dispose() => _hash?.Dispose();

    private IncrementalHash Hash => _hash ?? throw new InvalidOperationException("The transcript hash is not chosen yet.");
}
