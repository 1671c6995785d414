using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Switchyard.Api.Meta;

/// <summary>A value that is either an integer or a string (util/intstr), such as a Service's <c>targetPort</c>.</summary>
[JsonConverter(typeof(IntOrStringConverter))]
public readonly record struct IntOrString
{
    /// <summary>Creates an integer value.</summary>
    /// <param name="value">The integer.</param>
    public IntOrString(int value)
    {
        IntValue = value;
        StringValue = null;
    }

    /// <summary>Creates a string value.</summary>
    /// <param name="value">The string.</param>
    public IntOrString(string value)
    {
        IntValue = 0;
        StringValue = value;
    }

    /// <summary>The integer, when <see cref="IsString"/> is false.</summary>
    public int IntValue { get; }

    /// <summary>The string, when <see cref="IsString"/> is true.</summary>
    public string? StringValue { get; }

    /// <summary>Whether the value is a string.</summary>
    public bool IsString => StringValue is not null;

    /// <inheritdoc />
    public override string ToString() => StringValue ?? IntValue.ToString(CultureInfo.InvariantCulture);
}

/// <summary>JSON converter for <see cref="IntOrString"/>.</summary>
public sealed class IntOrStringConverter : JsonConverter<IntOrString>
{
    /// <inheritdoc />
    public override IntOrString Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
    {
        JsonTokenType.Number when reader.TryGetInt32(out var i) => new IntOrString(i),
        JsonTokenType.String => new IntOrString(reader.GetString()!),
        _ => throw new JsonException("expected an integer or a string"),
    };

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, IntOrString value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (value.IsString)
        {
            writer.WriteStringValue(value.StringValue);
        }
        else
        {
            writer.WriteNumberValue(value.IntValue);
        }
    }
}
