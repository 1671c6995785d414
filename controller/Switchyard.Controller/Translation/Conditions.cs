using Switchyard.Api.Meta;

namespace Switchyard.Controller.Translation;

/// <summary>Gateway API condition types and reasons (v1.6.1).</summary>
internal static class Cond
{
    public const string True = "True";
    public const string False = "False";

    public const string Accepted = "Accepted";
    public const string Programmed = "Programmed";
    public const string ResolvedRefs = "ResolvedRefs";
    public const string Conflicted = "Conflicted";
    public const string SupportedVersion = "SupportedVersion";
    public const string PartiallyInvalid = "PartiallyInvalid";
    public const string InsecureFrontendValidationMode = "InsecureFrontendValidationMode";

    public const string InvalidParameters = "InvalidParameters";
    public const string ListenersNotValid = "ListenersNotValid";
    public const string Invalid = "Invalid";
    public const string NoConflicts = "NoConflicts";
    public const string HostnameConflict = "HostnameConflict";
    public const string ProtocolConflict = "ProtocolConflict";
    public const string UnsupportedProtocol = "UnsupportedProtocol";
    public const string InvalidRouteKinds = "InvalidRouteKinds";
    public const string InvalidCertificateRef = "InvalidCertificateRef";
    public const string RefNotPermitted = "RefNotPermitted";
    public const string UnsupportedValue = "UnsupportedValue";
    public const string NotAllowed = "NotAllowed";
    public const string ParentNotAccepted = "ParentNotAccepted";
    public const string InvalidCACertificateRef = "InvalidCACertificateRef";
    public const string InvalidCACertificateKind = "InvalidCACertificateKind";
    public const string NoValidCACertificate = "NoValidCACertificate";
    public const string ConfigurationChanged = "ConfigurationChanged";

    public const string NotAllowedByListeners = "NotAllowedByListeners";
    public const string NoMatchingListenerHostname = "NoMatchingListenerHostname";
    public const string NoMatchingParent = "NoMatchingParent";
    public const string InvalidKind = "InvalidKind";
    public const string BackendNotFound = "BackendNotFound";

    public const string InvalidClientCertificateRef = "InvalidClientCertificateRef";
}

/// <summary>
/// The status accessor of one object or listener (Contour's pattern): processors set specific conditions first
/// (the first specific value of a type wins), then <see cref="Commit"/> fills the gaps with the defaults.
/// </summary>
internal sealed class ConditionSet
{
    private readonly List<Condition> conditions = [];
    private readonly long? generation;

    public ConditionSet(long? generation)
    {
        this.generation = generation;
    }

    public bool Has(string type) => conditions.Exists(c => c.Type == type);

    public string? StatusOf(string type) => conditions.Find(c => c.Type == type)?.Status;

    /// <summary>Sets a condition unless a specific one of that type was set already.</summary>
    public void Set(string type, bool status, string reason, string message)
    {
        if (!Has(type))
        {
            conditions.Add(new Condition
            {
                Type = type,
                Status = status ? Cond.True : Cond.False,
                Reason = reason,
                Message = message,
                ObservedGeneration = generation,
            });
        }
    }

    /// <summary>Fills in defaults for the given types and returns the conditions in the given order.</summary>
    public List<Condition> Commit(params (string Type, bool Status, string Reason, string Message)[] defaults)
    {
        foreach (var (type, status, reason, message) in defaults)
        {
            Set(type, status, reason, message);
        }

        var order = defaults.Select(d => d.Type).ToList();
        return conditions.OrderBy(c => order.IndexOf(c.Type) is var i && i < 0 ? int.MaxValue : i).ThenBy(c => c.Type, StringComparer.Ordinal).ToList();
    }
}
