using System.Runtime.InteropServices;
using Mage.Cli;

using var stop = new CancellationTokenSource();

// SIGINT (Ctrl+C) and SIGTERM (docker stop, Container Apps) ask the command to stop: it finishes
// or releases what it is doing and returns its own exit code (mage worker 0, the others
// ExitCodes.Cancelled). context.Cancel keeps the runtime from ending the process meanwhile. A
// second signal is left to the runtime, which ends the process at once.
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, RequestStop);
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, RequestStop);

return await CliApp.RunAsync(args, Console.Out, Console.Error, stop.Token);

void RequestStop(PosixSignalContext context)
{
    context.Cancel = !stop.IsCancellationRequested;

    // The token's callbacks run on the thread pool, not on the signal thread, and one that
    // throws faults the returned task instead of the process.
    _ = stop.CancelAsync();
}
