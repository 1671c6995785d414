namespace Switchyard.Kubernetes.DevApiServer.Cel;

/// <summary>
/// A cost meter shared by the rules evaluated for one object, standing in for cel-go's runtime cost tracking: every
/// evaluated node costs 1, string and list work costs in proportion to the size touched. Running out stops the
/// evaluation with <see cref="CelCostLimitException"/>, so no rule or object can hold the server.
/// </summary>
internal sealed class CelBudget(long limit)
{
    /// <summary>What the budget started with.</summary>
    public long Limit { get; } = limit;

    /// <summary>What is left; negative once exhausted.</summary>
    public long Remaining { get; private set; } = limit;

    /// <summary>Spends <paramref name="cost"/>.</summary>
    /// <exception cref="CelCostLimitException">The budget is exhausted.</exception>
    public void Charge(long cost)
    {
        Remaining -= cost;
        if (Remaining < 0)
        {
            throw new CelCostLimitException();
        }
    }
}
