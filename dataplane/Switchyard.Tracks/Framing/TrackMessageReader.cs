using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;

namespace Switchyard.Tracks.Framing;

/// <summary>
/// Reads the messages of one track stream from a <see cref="PipeReader"/>, whatever the chunking of the input.
/// </summary>
/// <remarks>
/// <para>Steps of <see cref="MoveNextAsync"/>:</para>
/// <list type="number">
/// <item>Try to cut the next message from the bytes already buffered; if that works, return at once (no I/O, no allocation).</item>
/// <item>Otherwise consume what earlier messages used, mark everything buffered as examined, and wait for more input.</item>
/// <item>At the end of the stream, a clean boundary ends the sequence; a partial message is an error.</item>
/// </list>
/// <para>
/// The first malformed header latches the reader: that call and every later one throw the same
/// <see cref="TrackHeaderException"/>, so no message after a bad header can ever be yielded.
/// </para>
/// </remarks>
public sealed class TrackMessageReader
{
    private readonly PipeReader _input;
    private readonly uint _maxPayloadLength;
    private ReadOnlySequence<byte> _buffer;
    private bool _haveBuffer;
    private bool _inputCompleted;
    private bool _ended;
    private int _readsForCurrent;
    private TrackHeaderException? _fault;

    /// <summary>Creates a reader over <paramref name="input"/>.</summary>
    /// <param name="input">The stream's bytes.</param>
    /// <param name="maxPayloadLength">Messages claiming more payload than this are refused.</param>
    public TrackMessageReader(PipeReader input, uint maxPayloadLength = TrackFraming.DefaultMaxPayloadLength)
    {
        ArgumentNullException.ThrowIfNull(input);
        _input = input;
        _maxPayloadLength = maxPayloadLength;
    }

    /// <summary>The current message; valid until the next <see cref="MoveNextAsync"/>.</summary>
    public TrackMessage Current { get; private set; }

    /// <summary>Messages yielded so far.</summary>
    public long MessagesRead { get; private set; }

    /// <summary>Messages that needed more than one read of the input to complete (they were split in transit).</summary>
    public long FragmentedMessages { get; private set; }

    /// <summary>Bytes buffered but not yet yielded as a whole message.</summary>
    public long BufferedBytes => _haveBuffer ? _buffer.Length : 0;

    /// <summary>Advances to the next message.</summary>
    /// <returns>False at a clean end of the stream.</returns>
    /// <exception cref="TrackHeaderException">A header was malformed, or the stream ended inside a message.</exception>
    public ValueTask<bool> MoveNextAsync(CancellationToken cancellationToken = default)
    {
        if (_fault is not null)
        {
            return ValueTask.FromException<bool>(_fault);
        }

        if (_ended)
        {
            return new ValueTask<bool>(false);
        }

        // :: Step 1 — the fast path: the next message is already buffered.
        if (_haveBuffer && TryCut(out var completedNow))
        {
            return new ValueTask<bool>(completedNow);
        }

        return ReadMoreAsync(cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> ReadMoreAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            // :: Step 2 — give back what whole messages used; keep the partial tail, all of it examined.
            if (_haveBuffer)
            {
                _input.AdvanceTo(_buffer.Start, _buffer.End);
                _haveBuffer = false;
            }

            var result = await _input.ReadAsync(cancellationToken).ConfigureAwait(false);
            _buffer = result.Buffer;
            _haveBuffer = true;
            _inputCompleted = result.IsCompleted || result.IsCanceled;
            _readsForCurrent++;
            // :: Step 3 (inside TryCut) — at the end of input, a clean boundary ends the sequence.
            if (TryCut(out var yielded))
            {
                return yielded;
            }
        }
    }

    /// <summary>Tries to cut a message (or the clean end) from the buffer. Returns false when more input is needed.</summary>
    private bool TryCut(out bool yielded)
    {
        bool complete;
        TrackMessage message;
        try
        {
            complete = TrackFraming.TryReadMessage(ref _buffer, _maxPayloadLength, out message);
        }
        catch (TrackHeaderException ex)
        {
            _fault = ex;
            throw;
        }

        if (complete)
        {
            Current = message;
            MessagesRead++;
            if (_readsForCurrent > 1)
            {
                FragmentedMessages++;
            }

            _readsForCurrent = _buffer.Length == 0 ? 0 : 1;
            yielded = true;
            return true;
        }

        if (_inputCompleted)
        {
            yielded = End();
            return true;
        }

        yielded = false;
        return false;
    }

    private bool End()
    {
        var leftover = _haveBuffer ? _buffer.Length : 0;
        if (_haveBuffer)
        {
            _input.AdvanceTo(_buffer.End);
            _haveBuffer = false;
        }

        if (leftover != 0)
        {
            _fault = new TrackHeaderException(TrackHeaderError.TruncatedMessage);
            throw _fault;
        }

        _ended = true;
        Current = default;
        return false;
    }
}
