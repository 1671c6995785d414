using System.Security.Cryptography;
using Switchyard.Tls;

namespace Switchyard.Interop.Tests.Support;

/// <summary>
/// The shared material of the interop tests, made once: a fresh ECDSA P-256 certificate for localhost and 127.0.0.1,
/// and a document root of random files (a 50 MB one, ten 2 MB ones, a small one).
/// </summary>
public sealed class InteropFiles : IDisposable
{
    /// <summary>The large file's size: the brief's 50 MB.</summary>
    public const int BigSize = 50_000_000;

    /// <summary>How many files the concurrency tests fetch at once.</summary>
    public const int ConcurrentCount = 10;

    public InteropFiles()
    {
        Root = Path.Combine(Path.GetTempPath(), "switchyard-interop-" + Guid.NewGuid().ToString("N")[..12]);
        WwwRoot = Path.Combine(Root, "www");
        Directory.CreateDirectory(WwwRoot);
        CertificatePath = Path.Combine(Root, "cert.pem");
        KeyPath = Path.Combine(Root, "key.pem");
        using (var certificate = TlsCertificates.CreateSelfSignedEcdsaP256(["localhost", "127.0.0.1"], TimeSpan.FromDays(2)))
        {
            TlsCertificates.WritePem(certificate, CertificatePath, KeyPath);
        }

        WriteRandom("big.bin", BigSize);
        WriteRandom("small.bin", 100_000);
        for (var i = 0; i < ConcurrentCount; i++)
        {
            WriteRandom($"m{i}.bin", 2_000_000 + i);
        }

        // A file outside the root, to prove the server never serves it.
        File.WriteAllText(Path.Combine(Root, "secret.txt"), "outside the document root");
    }

    public string Root { get; }

    public string WwwRoot { get; }

    public string CertificatePath { get; }

    public string KeyPath { get; }

    /// <summary>URL paths of the concurrency files.</summary>
    public static IEnumerable<string> ConcurrentPaths => Enumerable.Range(0, ConcurrentCount).Select(i => $"/m{i}.bin");

    /// <summary>A new empty folder under the test root.</summary>
    public string NewDirectory(string prefix)
    {
        var path = Path.Combine(Root, prefix + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>Asserts that the file at <paramref name="urlPath"/> arrived under <paramref name="downloads"/> byte for byte.</summary>
    public void AssertDownloaded(string downloads, string urlPath, string context)
    {
        var expected = Path.Combine(WwwRoot, urlPath.TrimStart('/'));
        var actual = Path.Combine(downloads, urlPath.TrimStart('/'));
        Assert.True(File.Exists(actual), $"{urlPath} was not downloaded.\n{context}");
        var expectedLength = new FileInfo(expected).Length;
        var actualLength = new FileInfo(actual).Length;
        Assert.True(expectedLength == actualLength, $"{urlPath}: {actualLength} bytes arrived, {expectedLength} expected.\n{context}");
        Assert.True(Hash(expected).SequenceEqual(Hash(actual)), $"{urlPath}: the content differs from the served file.\n{context}");
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A peer still closing a file: the temp folder is left for the OS to clean.
        }
    }

    private static byte[] Hash(string path)
    {
        using var stream = File.OpenRead(path);
        return SHA256.HashData(stream);
    }

    private void WriteRandom(string name, int size)
    {
        var data = new byte[size];
        RandomNumberGenerator.Fill(data);
        File.WriteAllBytes(Path.Combine(WwwRoot, name), data);
    }
}

/// <summary>The interop tests run one at a time: two bulk transfers on a 2-core runner would only measure each other.</summary>
[CollectionDefinition(Name)]
public sealed class InteropCollection : ICollectionFixture<InteropFiles>
{
    public const string Name = "Interop";
}
