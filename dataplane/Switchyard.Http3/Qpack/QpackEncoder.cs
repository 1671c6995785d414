using System.Buffers;

namespace Switchyard.Http3.Qpack;

/// <summary>
/// The encoding side of QPACK, restricted to the static table and literals (RFC 9204 §2.1): it never inserts into the
/// dynamic table, so the encoder stream stays silent, every section has Required Insert Count 0, and the peer's
/// decoder never blocks.
/// </summary>
internal static class QpackEncoder
{
    /// <summary>Encodes a whole field section (RFC 9204 §4.5) into <paramref name="output"/>.</summary>
    public static void EncodeFieldSection(IBufferWriter<byte> output, IEnumerable<HeaderField> fields)
    {
        // §4.5.1: Required Insert Count 0, Delta Base 0.
        Span<byte> prefix = output.GetSpan(2);
        prefix[0] = 0;
        prefix[1] = 0;
        output.Advance(2);
        foreach (HeaderField field in fields)
        {
            EncodeFieldLine(output, field);
        }
    }

    /// <summary>Encodes one field line using the best static-table representation.</summary>
    public static void EncodeFieldLine(IBufferWriter<byte> output, HeaderField field)
    {
        int exact = QpackStaticTable.FindField(field.Name, field.Value);
        if (exact >= 0)
        {
            // §4.5.2 Indexed Field Line, T=1 (static): 11 index(6).
            QpackPrimitives.WriteInteger(output, exact, 6, 0xc0);
            return;
        }

        int nameIndex = QpackStaticTable.FindName(field.Name);
        if (nameIndex >= 0)
        {
            // §4.5.4 Literal Field Line with Name Reference, N=0, T=1: 0101 index(4).
            QpackPrimitives.WriteInteger(output, nameIndex, 4, 0x50);
        }
        else
        {
            // §4.5.6 Literal Field Line with Literal Name, N=0: 001 H length(3).
            QpackPrimitives.WriteString(output, field.Name, 3, 0x20);
        }

        QpackPrimitives.WriteString(output, field.Value, 7, 0x00);
    }
}
