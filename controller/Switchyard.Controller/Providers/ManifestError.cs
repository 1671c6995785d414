namespace Switchyard.Controller.Providers;

/// <summary>
/// Why a manifest could not be used: the file, the 1-based line, the object (<c>Kind ns/name</c>) when it
/// is known, and the field path (<c>spec.listeners[0].port</c>) when the problem is one field.
/// </summary>
/// <param name="File">File path.</param>
/// <param name="Line">1-based line, or 0 when unknown.</param>
/// <param name="Object">Object as <c>Kind ns/name</c>, or null when the document is not an object yet.</param>
/// <param name="Field">Field path, or null.</param>
/// <param name="Message">What is wrong.</param>
public sealed record ManifestError(string File, int Line, string? Object, string? Field, string Message)
{
    /// <inheritdoc />
    public override string ToString()
    {
        var location = Line > 0 ? $"{File}:{Line}" : File;
        var what = Object is null ? "" : $" {Object}";
        var field = Field is null ? "" : $" field {Field}";
        return $"{location}:{what}{field}{(what.Length + field.Length > 0 ? ":" : "")} {Message}";
    }
}

/// <summary>Thrown when manifests cannot be decoded; carries every error found.</summary>
public sealed class ManifestException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="errors">Errors.</param>
    public ManifestException(IReadOnlyList<ManifestError> errors)
        : base(string.Join(Environment.NewLine, errors))
    {
        Errors = errors;
    }

    /// <summary>Creates the exception with a message.</summary>
    public ManifestException()
        : this([])
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">Message.</param>
    public ManifestException(string message)
        : base(message)
    {
        Errors = [];
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    /// <param name="message">Message.</param>
    /// <param name="inner">Cause.</param>
    public ManifestException(string message, Exception inner)
        : base(message, inner)
    {
        Errors = [];
    }

    /// <summary>The errors.</summary>
    public IReadOnlyList<ManifestError> Errors { get; }
}
