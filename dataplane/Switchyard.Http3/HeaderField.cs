namespace Switchyard.Http3;

/// <summary>
/// One field line of an HTTP message. Names and values hold octets as Latin-1 characters, so a string's
/// length is its size on the wire.
/// </summary>
/// <param name="Name">The field name, lowercase (RFC 9114 §4.2); pseudo-header names start with ':'.</param>
/// <param name="Value">The field value.</param>
public readonly record struct HeaderField(string Name, string Value)
{
    /// <summary>The size used by QPACK and SETTINGS_MAX_FIELD_SECTION_SIZE: name + value + 32 (RFC 9204 §3.2.1, RFC 9114 §4.2.2).</summary>
    public int Size => Name.Length + Value.Length + 32;

    /// <inheritdoc />
    public override string ToString() => $"{Name}: {Value}";
}
