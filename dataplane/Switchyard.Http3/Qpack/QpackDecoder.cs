using System.Buffers;

namespace Switchyard.Http3.Qpack;

/// <summary>The outcome of decoding one field section.</summary>
internal enum QpackDecodeStatus
{
    /// <summary>The field lines were decoded.</summary>
    Completed,

    /// <summary>The section needs dynamic table entries not yet received: the stream is blocked (RFC 9204 §2.1.2).</summary>
    Blocked,
}

/// <summary>
/// The decoding side of QPACK (RFC 9204): the dynamic table fed by the peer's encoder stream, field section
/// decoding with blocked streams, and the instructions our decoder stream owes the peer. Safe for concurrent use:
/// the encoder stream and request streams run on different tasks.
/// </summary>
internal sealed class QpackDecoder
{
    private const Http3ErrorCode Decompression = Http3ErrorCode.QpackDecompressionFailed;
    private const Http3ErrorCode EncoderStream = Http3ErrorCode.QpackEncoderStreamError;

    private readonly object _lock = new();
    private readonly List<HeaderField> _entries = new();   // oldest first; absolute index = _droppedCount + position
    private readonly List<(long RequiredInsertCount, TaskCompletionSource Signal)> _waiters = new();
    private readonly long _maxTableCapacity;
    private readonly int _maxBlockedStreams;
    private readonly int _maxFieldSectionSize;
    private long _capacity;
    private long _size;
    private long _droppedCount;
    private long _knownReceivedCount;
    private int _blockedStreams;

    /// <param name="maxTableCapacity">Our SETTINGS_QPACK_MAX_TABLE_CAPACITY.</param>
    /// <param name="maxBlockedStreams">Our SETTINGS_QPACK_BLOCKED_STREAMS.</param>
    /// <param name="maxFieldSectionSize">Our SETTINGS_MAX_FIELD_SECTION_SIZE: the decoded size beyond which a section is refused.</param>
    public QpackDecoder(long maxTableCapacity, int maxBlockedStreams, int maxFieldSectionSize)
    {
        _maxTableCapacity = maxTableCapacity;
        _maxBlockedStreams = maxBlockedStreams;
        _maxFieldSectionSize = maxFieldSectionSize;
    }

    /// <summary>Total number of insertions so far (RFC 9204 §3.2.4).</summary>
    public long InsertCount
    {
        get { lock (_lock) { return _droppedCount + _entries.Count; } }
    }

    /// <summary>The current dynamic table capacity set by the peer's encoder.</summary>
    public long Capacity
    {
        get { lock (_lock) { return _capacity; } }
    }

    /// <summary>The current dynamic table size (RFC 9204 §3.2.1).</summary>
    public long Size
    {
        get { lock (_lock) { return _size; } }
    }

    /// <summary>
    /// Applies encoder instructions (RFC 9204 §4.3) from the peer's encoder stream and returns how many bytes were
    /// consumed; a trailing incomplete instruction is left for the next call.
    /// </summary>
    /// <exception cref="Http3ConnectionException">QPACK_ENCODER_STREAM_ERROR for any invalid instruction.</exception>
    public int ProcessEncoderInstructions(ReadOnlySpan<byte> input)
    {
        int total = 0;
        while (!input.IsEmpty)
        {
            int n = TryProcessOneEncoderInstruction(input);
            if (n == 0)
            {
                break;
            }

            total += n;
            input = input[n..];
        }

        if (total > 0)
        {
            ReleaseWaiters();
        }

        return total;
    }

    /// <summary>
    /// Decodes one encoded field section (RFC 9204 §4.5) into <paramref name="output"/>.
    /// </summary>
    /// <param name="section">The whole HEADERS frame payload.</param>
    /// <param name="output">Receives the field lines in order.</param>
    /// <param name="requiredInsertCount">The section's Required Insert Count: when non-zero, a Section Acknowledgment is owed.</param>
    /// <returns><see cref="QpackDecodeStatus.Blocked"/> when entries up to <paramref name="requiredInsertCount"/> have not arrived.</returns>
    /// <exception cref="Http3ConnectionException">QPACK_DECOMPRESSION_FAILED for an invalid section (RFC 9204 §2.2.3, §4.5).</exception>
    /// <exception cref="QpackFieldSectionTooLargeException">The decoded section exceeds SETTINGS_MAX_FIELD_SECTION_SIZE.</exception>
    public QpackDecodeStatus DecodeFieldSection(ReadOnlySpan<byte> section, List<HeaderField> output, out long requiredInsertCount)
    {
        // :: Step 1 the prefix: Required Insert Count (8-bit prefix) and Sign + Delta Base (7-bit prefix), §4.5.1.
        if (!QpackPrimitives.TryDecodeInteger(section, 8, out long encodedInsertCount, out int n, Decompression))
        {
            throw new Http3ConnectionException(Decompression, "Field section ends inside its prefix (RFC 9204 §4.5.1).");
        }

        section = section[n..];
        if (section.IsEmpty || !QpackPrimitives.TryDecodeInteger(section, 7, out long deltaBase, out n, Decompression))
        {
            throw new Http3ConnectionException(Decompression, "Field section ends inside its prefix (RFC 9204 §4.5.1).");
        }

        bool negative = (section[0] & 0x80) != 0;
        section = section[n..];

        lock (_lock)
        {
            requiredInsertCount = DecodeRequiredInsertCount(encodedInsertCount);
            if (requiredInsertCount > _droppedCount + _entries.Count)
            {
                return QpackDecodeStatus.Blocked;
            }

            long baseIndex;
            if (!negative)
            {
                baseIndex = requiredInsertCount + deltaBase;
            }
            else
            {
                // §4.5.1.2: Base = RIC - DeltaBase - 1, which must not be negative.
                if (deltaBase + 1 > requiredInsertCount)
                {
                    throw new Http3ConnectionException(Decompression, "Negative Base in a field section prefix (RFC 9204 §4.5.1.2).");
                }

                baseIndex = requiredInsertCount - deltaBase - 1;
            }

            // :: Step 2 the field lines (§4.5.2 – §4.5.6).
            long totalSize = 0;
            while (!section.IsEmpty)
            {
                HeaderField field = DecodeFieldLine(ref section, requiredInsertCount, baseIndex);
                totalSize += field.Size;
                if (totalSize > _maxFieldSectionSize)
                {
                    throw new QpackFieldSectionTooLargeException(requiredInsertCount);
                }

                output.Add(field);
            }

            if (requiredInsertCount > _knownReceivedCount)
            {
                _knownReceivedCount = requiredInsertCount;
            }

            return QpackDecodeStatus.Completed;
        }
    }

    /// <summary>
    /// Waits until the insert count reaches <paramref name="requiredInsertCount"/>, counting the stream as blocked
    /// meanwhile. Fails with QPACK_DECOMPRESSION_FAILED when more streams would block than SETTINGS_QPACK_BLOCKED_STREAMS
    /// allows (RFC 9204 §2.1.2).
    /// </summary>
    public async Task WaitForInsertCountAsync(long requiredInsertCount, CancellationToken cancellationToken)
    {
        TaskCompletionSource signal;
        lock (_lock)
        {
            if (requiredInsertCount <= _droppedCount + _entries.Count)
            {
                return;
            }

            if (_blockedStreams >= _maxBlockedStreams)
            {
                throw new Http3ConnectionException(Decompression, $"More than {_maxBlockedStreams} streams blocked on the dynamic table (RFC 9204 §2.1.2).");
            }

            _blockedStreams++;
            signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((requiredInsertCount, signal));
        }

        try
        {
            await signal.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            lock (_lock)
            {
                _blockedStreams--;
                _waiters.RemoveAll(w => w.Signal == signal);
            }
        }
    }

    /// <summary>
    /// Writes an Insert Count Increment (RFC 9204 §4.4.3) covering every insertion not yet acknowledged, if any.
    /// </summary>
    /// <returns>True when an instruction was written.</returns>
    public bool WriteInsertCountIncrement(IBufferWriter<byte> output)
    {
        long increment;
        lock (_lock)
        {
            long inserted = _droppedCount + _entries.Count;
            increment = inserted - _knownReceivedCount;
            if (increment <= 0)
            {
                return false;
            }

            _knownReceivedCount = inserted;
        }

        QpackPrimitives.WriteInteger(output, increment, 6, 0x00);
        return true;
    }

    /// <summary>Writes a Section Acknowledgment (RFC 9204 §4.4.1).</summary>
    public static void WriteSectionAcknowledgment(IBufferWriter<byte> output, long streamId) => QpackPrimitives.WriteInteger(output, streamId, 7, 0x80);

    /// <summary>Writes a Stream Cancellation (RFC 9204 §4.4.2).</summary>
    public static void WriteStreamCancellation(IBufferWriter<byte> output, long streamId) => QpackPrimitives.WriteInteger(output, streamId, 6, 0x40);

    private long DecodeRequiredInsertCount(long encoded)
    {
        // RFC 9204 §4.5.1.1.
        if (encoded == 0)
        {
            return 0;
        }

        long maxEntries = _maxTableCapacity / 32;
        long fullRange = 2 * maxEntries;
        if (encoded > fullRange)
        {
            throw new Http3ConnectionException(Decompression, $"Encoded Required Insert Count {encoded} exceeds 2 * MaxEntries = {fullRange} (RFC 9204 §4.5.1.1).");
        }

        long totalInserts = _droppedCount + _entries.Count;
        long maxValue = totalInserts + maxEntries;
        long maxWrapped = maxValue / fullRange * fullRange;
        long required = maxWrapped + encoded - 1;
        if (required > maxValue)
        {
            if (required <= fullRange)
            {
                throw new Http3ConnectionException(Decompression, "Invalid Required Insert Count (RFC 9204 §4.5.1.1).");
            }

            required -= fullRange;
        }

        if (required == 0)
        {
            throw new Http3ConnectionException(Decompression, "Required Insert Count encodes to 0 with a non-zero value (RFC 9204 §4.5.1.1).");
        }

        return required;
    }

    private HeaderField DecodeFieldLine(ref ReadOnlySpan<byte> section, long requiredInsertCount, long baseIndex)
    {
        byte first = section[0];
        if ((first & 0x80) != 0)
        {
            // §4.5.2 Indexed Field Line: 1 T index(6).
            long index = ReadInteger(ref section, 6);
            return (first & 0x40) != 0 ? QpackStaticTable.Get(index) : GetRelative(baseIndex, index, requiredInsertCount);
        }

        if ((first & 0x40) != 0)
        {
            // §4.5.4 Literal Field Line with Name Reference: 01 N T index(4), value.
            long index = ReadInteger(ref section, 4);
            string name = (first & 0x10) != 0 ? QpackStaticTable.Get(index).Name : GetRelative(baseIndex, index, requiredInsertCount).Name;
            return new HeaderField(name, ReadString(ref section, 7));
        }

        if ((first & 0x20) != 0)
        {
            // §4.5.6 Literal Field Line with Literal Name: 001 N H length(3), name, value.
            string name = ReadString(ref section, 3);
            return new HeaderField(name, ReadString(ref section, 7));
        }

        if ((first & 0x10) != 0)
        {
            // §4.5.3 Indexed Field Line with Post-Base Index: 0001 index(4).
            long index = ReadInteger(ref section, 4);
            return GetPostBase(baseIndex, index, requiredInsertCount);
        }

        // §4.5.5 Literal Field Line with Post-Base Name Reference: 0000 N index(3), value.
        long postBase = ReadInteger(ref section, 3);
        string postBaseName = GetPostBase(baseIndex, postBase, requiredInsertCount).Name;
        return new HeaderField(postBaseName, ReadString(ref section, 7));
    }

    private static long ReadInteger(ref ReadOnlySpan<byte> section, int prefixBits)
    {
        if (!QpackPrimitives.TryDecodeInteger(section, prefixBits, out long value, out int n, Decompression))
        {
            throw new Http3ConnectionException(Decompression, "Field section ends inside an integer (RFC 9204 §4.5).");
        }

        section = section[n..];
        return value;
    }

    private static string ReadString(ref ReadOnlySpan<byte> section, int prefixBits)
    {
        // The section is already buffered and bounded, so a literal is bounded by it (Huffman expands at most 8/5);
        // the decoded total is checked against SETTINGS_MAX_FIELD_SECTION_SIZE by the caller.
        int maxLength = (int)Math.Min(int.MaxValue / 2, (section.Length * 2L) + 16);
        if (section.IsEmpty || !QpackPrimitives.TryDecodeString(section, prefixBits, maxLength, out string value, out int n, Decompression))
        {
            throw new Http3ConnectionException(Decompression, "Field section ends inside a string literal (RFC 9204 §4.5).");
        }

        section = section[n..];
        return value;
    }

    private HeaderField GetRelative(long baseIndex, long relative, long requiredInsertCount)
    {
        // §3.2.5: relative index 0 is Base - 1; the entry must be below the Required Insert Count (§2.2.3).
        long absolute = baseIndex - 1 - relative;
        return GetAbsolute(absolute, requiredInsertCount);
    }

    private HeaderField GetPostBase(long baseIndex, long postBase, long requiredInsertCount)
    {
        // §3.2.6: post-base index 0 is Base.
        long absolute = baseIndex + postBase;
        return GetAbsolute(absolute, requiredInsertCount);
    }

    private HeaderField GetAbsolute(long absolute, long requiredInsertCount)
    {
        if (absolute < 0 || absolute >= requiredInsertCount)
        {
            throw new Http3ConnectionException(Decompression, $"Dynamic table reference {absolute} is outside the Required Insert Count {requiredInsertCount} (RFC 9204 §2.2.3).");
        }

        if (absolute < _droppedCount)
        {
            throw new Http3ConnectionException(Decompression, $"Dynamic table entry {absolute} was already evicted (RFC 9204 §2.2.3).");
        }

        return _entries[(int)(absolute - _droppedCount)];
    }

    private int TryProcessOneEncoderInstruction(ReadOnlySpan<byte> input)
    {
        byte first = input[0];
        int n;
        lock (_lock)
        {
            if ((first & 0x80) != 0)
            {
                // §4.3.2 Insert with Name Reference: 1 T index(6), value (H + 7-bit length).
                if (!QpackPrimitives.TryDecodeInteger(input, 6, out long index, out n, EncoderStream))
                {
                    return 0;
                }

                if (n >= input.Length || !QpackPrimitives.TryDecodeString(input[n..], 7, MaxEntryString(), out string value, out int m, EncoderStream))
                {
                    return 0;
                }

                string name = (first & 0x40) != 0
                    ? QpackStaticTable.Get(index, EncoderStream).Name
                    : GetForEncoderStream(index).Name;
                Insert(new HeaderField(name, value));
                return n + m;
            }

            if ((first & 0x40) != 0)
            {
                // §4.3.3 Insert with Literal Name: 01 H length(5), name, value.
                if (!QpackPrimitives.TryDecodeString(input, 5, MaxEntryString(), out string name, out n, EncoderStream))
                {
                    return 0;
                }

                if (n >= input.Length || !QpackPrimitives.TryDecodeString(input[n..], 7, MaxEntryString(), out string value, out int m, EncoderStream))
                {
                    return 0;
                }

                Insert(new HeaderField(name, value));
                return n + m;
            }

            if ((first & 0x20) != 0)
            {
                // §4.3.1 Set Dynamic Table Capacity: 001 capacity(5).
                if (!QpackPrimitives.TryDecodeInteger(input, 5, out long capacity, out n, EncoderStream))
                {
                    return 0;
                }

                if (capacity > _maxTableCapacity)
                {
                    throw new Http3ConnectionException(EncoderStream, $"Dynamic table capacity {capacity} exceeds our SETTINGS_QPACK_MAX_TABLE_CAPACITY {_maxTableCapacity} (RFC 9204 §4.3.1).");
                }

                _capacity = capacity;
                Evict(0);
                return n;
            }

            // §4.3.4 Duplicate: 000 index(5).
            if (!QpackPrimitives.TryDecodeInteger(input, 5, out long duplicate, out n, EncoderStream))
            {
                return 0;
            }

            Insert(GetForEncoderStream(duplicate));
            return n;
        }
    }

    private int MaxEntryString() => (int)Math.Min(int.MaxValue, Math.Max(0, _maxTableCapacity - 32));

    private HeaderField GetForEncoderStream(long relative)
    {
        // §3.2.5: on the encoder stream, relative index 0 is the most recently inserted entry.
        long absolute = _droppedCount + _entries.Count - 1 - relative;
        if (relative < 0 || absolute < _droppedCount)
        {
            throw new Http3ConnectionException(EncoderStream, $"Encoder instruction references relative index {relative}, which is not in the dynamic table (RFC 9204 §3.2.5).");
        }

        return _entries[(int)(absolute - _droppedCount)];
    }

    private void Insert(HeaderField entry)
    {
        // §3.2.2: an entry larger than the capacity is an error; otherwise evict from the oldest until it fits.
        if (entry.Size > _capacity)
        {
            throw new Http3ConnectionException(EncoderStream, $"An entry of size {entry.Size} does not fit the dynamic table capacity {_capacity} (RFC 9204 §3.2.2).");
        }

        Evict(entry.Size);
        _entries.Add(entry);
        _size += entry.Size;
    }

    private void Evict(long needed)
    {
        int evict = 0;
        while (_size + needed > _capacity && evict < _entries.Count)
        {
            _size -= _entries[evict].Size;
            evict++;
        }

        if (evict > 0)
        {
            _entries.RemoveRange(0, evict);
            _droppedCount += evict;
        }
    }

    private void ReleaseWaiters()
    {
        List<TaskCompletionSource>? ready = null;
        lock (_lock)
        {
            long inserted = _droppedCount + _entries.Count;
            foreach ((long required, TaskCompletionSource signal) in _waiters)
            {
                if (required <= inserted)
                {
                    (ready ??= new()).Add(signal);
                }
            }
        }

        if (ready is not null)
        {
            foreach (TaskCompletionSource signal in ready)
            {
                signal.TrySetResult();
            }
        }
    }
}

/// <summary>A decoded field section exceeds our SETTINGS_MAX_FIELD_SECTION_SIZE (RFC 9114 §4.2.2).</summary>
internal sealed class QpackFieldSectionTooLargeException : Exception
{
    public QpackFieldSectionTooLargeException(long requiredInsertCount)
        : base("The field section exceeds SETTINGS_MAX_FIELD_SECTION_SIZE (RFC 9114 §4.2.2).")
    {
        RequiredInsertCount = requiredInsertCount;
    }

    public QpackFieldSectionTooLargeException()
    {
    }

    public QpackFieldSectionTooLargeException(string message)
        : base(message)
    {
    }

    public QpackFieldSectionTooLargeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The section's Required Insert Count: when non-zero, a Stream Cancellation is owed.</summary>
    public long RequiredInsertCount { get; }
}
