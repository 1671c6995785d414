namespace Switchyard.Quic.Streams;

/// <summary>Sending-part states (RFC 9000 §3.1).</summary>
internal enum SendState
{
    Ready,
    Send,
    DataSent,
    DataRecvd,
    ResetSent,
    ResetRecvd,
}

/// <summary>Receiving-part states (RFC 9000 §3.2).</summary>
internal enum ReceiveState
{
    Recv,
    SizeKnown,
    DataRecvd,
    DataRead,
    ResetRecvd,
    ResetRead,
}

/// <summary>One stream inside the sans-I/O connection: its buffers, flow control and state machines.</summary>
internal sealed class QuicStreamState
{
    public QuicStreamState(long id, bool isServer, int sendCapacity, int receiveWindow, long peerMaxStreamData)
    {
        Id = id;
        IsLocal = IsClientInitiated(id) != isServer;
        IsBidirectional = IsBidi(id);
        CanSend = IsBidirectional || IsLocal;
        CanReceive = IsBidirectional || !IsLocal;
        if (CanSend)
        {
            Send = new SendBuffer(sendCapacity);
            PeerMaxStreamData = peerMaxStreamData;
        }
        else
        {
            SendState = SendState.DataRecvd;
        }

        if (CanReceive)
        {
            Receive = new ReceiveBuffer();
            ReceiveWindow = receiveWindow;
            LocalMaxStreamData = receiveWindow;
        }
        else
        {
            ReceiveState = ReceiveState.DataRead;
        }
    }

    public long Id { get; }

    public bool IsLocal { get; }

    public bool IsBidirectional { get; }

    public bool CanSend { get; }

    public bool CanReceive { get; }

    public SendBuffer? Send { get; }

    public ReceiveBuffer? Receive { get; }

    public SendState SendState { get; set; }

    public ReceiveState ReceiveState { get; set; }

    /// <summary>The peer's limit on what we may send (MAX_STREAM_DATA, RFC 9000 §4.1).</summary>
    public long PeerMaxStreamData { get; set; }

    /// <summary>Our advertised limit.</summary>
    public long LocalMaxStreamData { get; set; }

    public int ReceiveWindow { get; }

    public long? FinalSize { get; set; }

    /// <summary>The peer's RESET_STREAM error code.</summary>
    public long? PeerResetCode { get; set; }

    /// <summary>The peer's STOP_SENDING error code.</summary>
    public long? PeerStopSendingCode { get; set; }

    public bool ResetPending { get; set; }

    public long ResetCode { get; set; }

    public bool StopSendingPending { get; set; }

    public long StopSendingCode { get; set; }

    public bool LocalStopSent { get; set; }

    public bool MaxStreamDataPending { get; set; }

    /// <summary>The limit at which STREAM_DATA_BLOCKED should be sent, or -1.</summary>
    public long BlockedAt { get; set; } = -1;

    public long BlockedSentAt { get; set; } = -1;

    /// <summary>The driver's object for this stream, so events can reach it.</summary>
    public object? Handle { get; set; }

    public bool SendTerminal => SendState is SendState.DataRecvd or SendState.ResetRecvd;

    public bool ReceiveTerminal => ReceiveState is ReceiveState.DataRead or ReceiveState.ResetRead;

    public bool HasSomethingToSend =>
        ResetPending || StopSendingPending || MaxStreamDataPending || (BlockedAt >= 0 && BlockedAt != BlockedSentAt)
        || (SendState is SendState.Ready or SendState.Send or SendState.DataSent && Send!.HasDataToSend);

    public static bool IsClientInitiated(long id) => (id & 1) == 0;

    public static bool IsBidi(long id) => (id & 2) == 0;
}
