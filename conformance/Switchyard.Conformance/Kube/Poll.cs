namespace Switchyard.Conformance.Kube;

/// <summary>Polling with a deadline, the shape of upstream's <c>wait.PollUntilContextTimeout</c>.</summary>
internal static class Poll
{
    public static TimeSpan Interval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Calls <paramref name="check"/> until it reports done; fails with its last explanation at the deadline.</summary>
    public static async Task UntilAsync(string what, TimeSpan timeout, Func<CancellationToken, Task<(bool Done, string Why)>> check, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var why = "never checked";
        while (true)
        {
            try
            {
                var (done, reason) = await check(deadline.Token).ConfigureAwait(false);
                if (done)
                {
                    return;
                }

                why = reason;
                await Task.Delay(Interval, deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new ConformanceException($"timed out after {timeout.TotalSeconds:0.#}s waiting for {what}: {why}");
            }
        }
    }
}
