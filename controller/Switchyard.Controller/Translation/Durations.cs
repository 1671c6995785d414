using System.Globalization;
using System.Text.RegularExpressions;

namespace Switchyard.Controller.Translation;

/// <summary>Gateway API Duration strings (GEP-2257): one to four <c>&lt;number&gt;&lt;unit&gt;</c> parts, units h, m, s, ms.</summary>
internal static partial class Durations
{
    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        if (text is null || !Pattern().IsMatch(text))
        {
            return false;
        }

        foreach (Match part in Part().Matches(text))
        {
            var n = long.Parse(part.Groups[1].Value, CultureInfo.InvariantCulture);
            value += part.Groups[2].Value switch
            {
                "h" => TimeSpan.FromHours(n),
                "m" => TimeSpan.FromMinutes(n),
                "s" => TimeSpan.FromSeconds(n),
                _ => TimeSpan.FromMilliseconds(n),
            };
        }

        return true;
    }

    [GeneratedRegex(@"^([0-9]{1,5}(h|m|s|ms)){1,4}$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();

    [GeneratedRegex(@"([0-9]{1,5})(ms|h|m|s)", RegexOptions.CultureInvariant)]
    private static partial Regex Part();
}
