using Switchyard.Api.GatewayApi;

namespace Switchyard.Controller.Translation;

/// <summary>Accepts this controller's GatewayClasses and states the supported version and features.</summary>
internal sealed class GatewayClassProcessor : ITranslationProcessor
{
    /// <summary>Writes each of our GatewayClasses' status; the features come sorted from <see cref="SupportedFeatures.All"/> (status.supportedFeatures must be sorted).</summary>
    public void Run(TranslationContext context)
    {
        foreach (var gc in context.Snapshot.GatewayClasses)
        {
            if (gc.Spec.ControllerName != context.Options.ControllerName)
            {
                continue;
            }

            var conditions = new ConditionSet(gc.Metadata.Generation);
            if (gc.Spec.ParametersRef is { } p)
            {
                // Switchyard defines no parameters kind, so any reference is one it cannot honour.
                conditions.Set(Cond.Accepted, false, Cond.InvalidParameters, $"parametersRef {p.Group}/{p.Kind} {p.Name} is not supported");
            }
            else
            {
                context.Classes[gc.Metadata.Name ?? ""] = gc;
            }

            var status = new GatewayClassStatus
            {
                Conditions = conditions.Commit(
                    (Cond.Accepted, true, Cond.Accepted, "GatewayClass is accepted by " + context.Options.ControllerName),
                    (Cond.SupportedVersion, true, Cond.SupportedVersion, $"Gateway API {GatewayApiNames.BundleVersion} is supported")),
                SupportedFeatures = Translation.SupportedFeatures.All.Select(f => new SupportedFeature { Name = f }).ToList(),
            };
            context.ClassStatuses.Add(new(null, gc.Metadata.Name ?? "", gc.Metadata.Generation, status));
        }
    }
}
