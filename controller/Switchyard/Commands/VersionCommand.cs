using System.CommandLine;
using System.Reflection;

namespace Switchyard.Cli;

/// <summary><c>switchyard version</c>: prints the product version and the runtime it runs on.</summary>
internal static class VersionCommand
{
    public static Command Create()
    {
        var command = new Command("version", "Print the Switchyard version and the .NET runtime.");
        command.SetAction(parseResult =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            output.WriteLine($"switchyard {ProductVersion}");
            output.WriteLine($"runtime    .NET {Environment.Version} ({System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier})");
            return 0;
        });
        return command;
    }

    /// <summary>The informational version stamped at build time, without the source-revision suffix.</summary>
    public static string ProductVersion
    {
        get
        {
            var informational = typeof(VersionCommand).Assembly
                .GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
            var plus = informational.IndexOf('+', StringComparison.Ordinal);
            return plus < 0 ? informational : informational[..plus];
        }
    }
}
