namespace Switchyard.Processors;

/// <summary>The kinds of example backend, one per media the live client sends.</summary>
public enum ProcessorKind
{
    /// <summary>JPEG frames on <c>POST /process_video</c>: checks SOI/EOI and reads the frame size.</summary>
    Video,

    /// <summary>16-bit little-endian PCM on <c>POST /process_audio</c>: measures the RMS level.</summary>
    Audio,

    /// <summary>The seed's chat JSON on <c>POST /process_chat</c>: parses it and refuses malformed JSON with 400.</summary>
    Chat,
}
