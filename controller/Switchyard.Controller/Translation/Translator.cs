using Switchyard.Controller.Providers;

namespace Switchyard.Controller.Translation;

/// <summary>
/// The translator: a pure function from every relevant object to statuses and one data-plane snapshot per
/// Gateway. It performs no I/O, reads no clock and uses no randomness; it rebuilds everything on every call.
/// </summary>
/// <remarks>
/// Steps: 1. GatewayClasses. 2. Gateways and listeners (protocol, kinds, TLS, conflicts), then their addresses;
/// 2b. ListenerSets merged into their parent Gateways; 2c. the Service each Gateway needs (its listeners and its
/// ListenerSets'). 3. BackendTLSPolicies (validity, conflicts, TLS settings per Service port). 4. HTTPRoutes.
/// 5. WebTransportRoutes. 6. BackendTLSPolicy statuses per ancestor Gateway. 7. Snapshots and Gateway/listener
/// statuses.
/// </remarks>
public static class Translator
{
    /// <summary>Translates a resource snapshot.</summary>
    /// <param name="snapshot">Every relevant object.</param>
    /// <param name="options">Options.</param>
    /// <returns>Statuses and snapshots, sorted by namespace and name.</returns>
    public static TranslationResult Translate(ResourceSnapshot snapshot, TranslatorOptions options)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(options);
        var context = new TranslationContext(snapshot, options);
        ITranslationProcessor[] processors =
        [
            new GatewayClassProcessor(),   // :: Step 1
            new GatewayProcessor(),        // :: Step 2
            new AddressProcessor(),        // :: Step 2
            new ListenerSetProcessor(),    // :: Step 2b
            new GatewayServiceProcessor(), // :: Step 2c
            new BackendTlsPolicyProcessor(), // :: Step 3
            new HttpRouteProcessor(),      // :: Step 4
            new WebTransportRouteProcessor(), // :: Step 5
            new BackendTlsPolicyStatusProcessor(), // :: Step 6
            new StatusProcessor(),         // :: Step 7
        ];
        foreach (var processor in processors)
        {
            processor.Run(context);
        }

        return new TranslationResult
        {
            Statuses = new TranslationStatuses
            {
                GatewayClasses = [.. context.ClassStatuses],
                Gateways = [.. context.GatewayStatuses],
                HttpRoutes = [.. context.HttpRouteStatuses],
                WebTransportRoutes = [.. context.WebTransportRouteStatuses],
                ListenerSets = [.. context.ListenerSetStatuses],
                BackendTlsPolicies = [.. context.BackendTlsPolicyStatuses],
            },
            Snapshots = [.. context.Snapshots.OrderBy(s => s.Name, StringComparer.Ordinal)],
            Infrastructure = [.. context.Infrastructure.OrderBy(i => i.Namespace, StringComparer.Ordinal).ThenBy(i => i.Gateway, StringComparer.Ordinal)],
        };
    }
}
