namespace Switchyard.Conformance;

/// <summary>A conformance check failed; the message says what was expected and what was seen.</summary>
public sealed class ConformanceException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ConformanceException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What failed.</param>
    public ConformanceException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    /// <param name="message">What failed.</param>
    /// <param name="innerException">The cause.</param>
    public ConformanceException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
