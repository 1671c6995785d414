using System.Text.Json;
using System.Text.Unicode;

namespace Switchyard.Processors.Payloads;

/// <summary>The seed's chat object: <c>{"message_id", "timestamp", "user", "message", "type"}</c>.</summary>
/// <param name="MessageId">The client's ID for the message (a JSON string or number, kept as text).</param>
/// <param name="Timestamp">Milliseconds since the Unix epoch, as the client stamped it.</param>
/// <param name="User">Who wrote it.</param>
/// <param name="Message">The text.</param>
/// <param name="Type">The kind of chat message, usually <c>chat</c>.</param>
internal sealed record ChatMessage(string MessageId, double Timestamp, string User, string Message, string Type);

/// <summary>Parses chat payloads; a payload that is not the seed's chat object is refused with a reason.</summary>
internal static class ChatMessageParser
{
    private static readonly JsonDocumentOptions Options = new() { MaxDepth = 8, AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow };

    /// <summary>Parses one chat payload.</summary>
    /// <param name="data">UTF-8 JSON.</param>
    /// <param name="message">The chat message, when valid.</param>
    /// <param name="error">Why the payload was refused, when invalid.</param>
    /// <returns>True when the payload is a valid chat object.</returns>
    public static bool TryParse(ReadOnlyMemory<byte> data, out ChatMessage? message, out string? error)
    {
        message = null;

        // JsonDocument checks the UTF-8 of the structure but leaves string contents to GetString, which would throw.
        if (!Utf8.IsValid(data.Span))
        {
            error = "chat payload is not valid UTF-8";
            return false;
        }

        try
        {
            using var document = JsonDocument.Parse(data, Options);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                error = "chat payload must be a JSON object";
                return false;
            }

            if (!TryGetId(root, out var id, out error)
                || !TryGetTimestamp(root, out var timestamp, out error)
                || !TryGetString(root, "user", out var user, out error)
                || !TryGetString(root, "message", out var text, out error)
                || !TryGetString(root, "type", out var type, out error))
            {
                return false;
            }

            message = new ChatMessage(id, timestamp, user, text, type);
            error = null;
            return true;
        }
        catch (JsonException ex)
        {
            // Too-deep nesting is reported as a JsonException too.
            error = $"chat payload is not valid JSON: {ex.Message}";
            return false;
        }
        catch (InvalidOperationException)
        {
            // GetString refuses an escaped lone surrogate such as "\uD800": valid JSON, but not text.
            error = "chat payload holds a string that is not valid Unicode";
            return false;
        }
    }

    private static bool TryGetId(JsonElement root, out string id, out string? error)
    {
        id = string.Empty;
        error = null;
        if (!root.TryGetProperty("message_id", out var value))
        {
            error = "chat payload lacks \"message_id\"";
            return false;
        }

        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                id = value.GetString()!;
                return true;
            case JsonValueKind.Number:
                id = value.GetRawText();
                return true;
            default:
                error = "\"message_id\" must be a string or a number";
                return false;
        }
    }

    private static bool TryGetTimestamp(JsonElement root, out double timestamp, out string? error)
    {
        timestamp = 0;
        error = null;
        if (!root.TryGetProperty("timestamp", out var value) || value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out timestamp))
        {
            error = "chat payload needs a numeric \"timestamp\" (milliseconds since the epoch)";
            return false;
        }

        return true;
    }

    private static bool TryGetString(JsonElement root, string name, out string text, out string? error)
    {
        text = string.Empty;
        error = null;
        if (!root.TryGetProperty(name, out var value) || value.ValueKind != JsonValueKind.String)
        {
            error = $"chat payload needs a string \"{name}\"";
            return false;
        }

        text = value.GetString()!;
        return true;
    }
}
