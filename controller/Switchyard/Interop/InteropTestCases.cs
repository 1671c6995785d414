namespace Switchyard.Cli.Interop;

/// <summary>
/// The QUIC Interop Runner test cases this endpoint knows, by role. The runner passes the name in <c>TESTCASE</c> (or
/// here <c>--testcase</c>) and reads exit code 127 as "not supported", so a test case is listed only when the
/// endpoint does what the runner checks for.
/// </summary>
internal static class InteropTestCases
{
    /// <summary>The exit code the runner reads as "this endpoint does not support the test case".</summary>
    public const int Unsupported = 127;

    /// <summary>Test cases where the server needs nothing special beyond serving files over h3.</summary>
    private static readonly HashSet<string> ServerCases = new(StringComparer.Ordinal)
    {
        "handshake",
        "transfer",
        "http3",
        "multiplexing",
        "retry",     // every new client gets a Retry first (RFC 9000 §8.1.2)
        "keyupdate", // the client initiates; the server follows the key phase (RFC 9001 §6.2)
    };

    /// <summary>Client test cases.</summary>
    private static readonly HashSet<string> ClientCases = new(StringComparer.Ordinal)
    {
        "handshake",
        "transfer",
        "http3",
        "multiplexing",
        "retry",     // the client follows the server's Retry (RFC 9000 §17.2.5.2)
        "keyupdate", // the client starts a key update early in the download (RFC 9001 §6.1) through IQuicKeyUpdateInitiator
    };

    /// <summary>The test case from the option, else from <c>TESTCASE</c>, else null (plain serving/downloading).</summary>
    public static string? Resolve(string? fromOption)
    {
        var name = string.IsNullOrWhiteSpace(fromOption) ? Environment.GetEnvironmentVariable("TESTCASE") : fromOption;
        return string.IsNullOrWhiteSpace(name) ? null : name.Trim().ToLowerInvariant();
    }

    /// <summary>True when the server supports <paramref name="testCase"/>; null means no test case and is supported.</summary>
    public static bool ServerSupports(string? testCase) => testCase is null || ServerCases.Contains(testCase);

    /// <summary>True when the client supports <paramref name="testCase"/>; null means no test case and is supported.</summary>
    public static bool ClientSupports(string? testCase) => testCase is null || ClientCases.Contains(testCase);
}
