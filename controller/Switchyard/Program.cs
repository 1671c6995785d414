using System.CommandLine;
using Switchyard.Cli;

// The `switchyard` command. Each subcommand lives in Commands/ and is added here only once it works:
// the help text lists nothing that does not.
var root = new RootCommand("Switchyard: a Kubernetes Gateway API implementation that routes individual WebTransport streams.");
root.Subcommands.Add(VersionCommand.Create());
root.Subcommands.Add(InteropCommand.Create());
root.Subcommands.Add(ControllerCommand.Create());
root.Subcommands.Add(DevApiServerCommand.Create());
root.Subcommands.Add(QuickstartCommand.Create());
root.Subcommands.Add(RunCommand.Create());
root.Subcommands.Add(ConformanceCommand.Create());
return await root.Parse(args).InvokeAsync().ConfigureAwait(false);
