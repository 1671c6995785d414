namespace Switchyard.Controller.Translation;

/// <summary>
/// States the LoadBalancer Service each accepted Gateway needs (<see cref="GatewayInfrastructureIntent"/>). It runs
/// after <see cref="ListenerSetProcessor"/> because a ListenerSet's listeners are served on the Gateway's addresses:
/// their ports belong on the Gateway's Service too. <see cref="AddressProcessor"/> decided which Gateways get one.
/// </summary>
internal sealed class GatewayServiceProcessor : ITranslationProcessor
{
    public void Run(TranslationContext context)
    {
        foreach (var gateway in context.Gateways)
        {
            if (gateway.Service is { } service && AddressProcessor.Intent(gateway, service.Name, service.Pinned) is { } intent)
            {
                context.Infrastructure.Add(intent);
            }
        }
    }
}
