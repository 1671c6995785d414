using System.Buffers;
using System.IO.Pipelines;

namespace Switchyard.Benchmarks.Tracks;

/// <summary>
/// A resettable <see cref="PipeReader"/> that replays a fixed byte sequence in fixed-size reads, as QUIC hands a stream's
/// data to the application. It lets the benchmark measure the track reader alone: a real <see cref="Pipe"/> would add
/// its own segment allocations to the figure.
/// </summary>
internal sealed class ReplayPipeReader : PipeReader
{
    private readonly ReadOnlySequence<byte> _data;
    private readonly int _readSize;
    private SequencePosition _consumed;
    private long _available;

    public ReplayPipeReader(ReadOnlySequence<byte> data, int readSize)
    {
        _data = data;
        _readSize = readSize;
        Reset();
    }

    public void Reset()
    {
        _consumed = _data.Start;
        _available = 0;
    }

    public override bool TryRead(out ReadResult result)
    {
        result = Next();
        return true;
    }

    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default) => new(Next());

    private ReadResult Next()
    {
        var remaining = _data.Slice(_consumed);
        _available = Math.Min(remaining.Length, _available + _readSize);
        return new ReadResult(remaining.Slice(0, _available), isCanceled: false, isCompleted: _available == remaining.Length);
    }

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        var before = _data.Slice(_consumed).Length;
        _consumed = consumed;
        _available -= before - _data.Slice(_consumed).Length;
    }

    public override void CancelPendingRead()
    {
    }

    public override void Complete(Exception? exception = null)
    {
    }
}
