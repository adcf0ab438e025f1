using BenchmarkDotNet.Running;

if (args.Length > 2 && args[0] == "graphs")
{
    return Mage.Benchmarks.GraphTimes.Run(args[1], int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture), args.Length > 3 ? int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture) : 0);
}

if (args.Length > 3 && args[0] == "profile")
{
    // profile PACKAGE BATCH PREFIX [DEVICE] [--runs N]
    var device = args.Length > 4 && !args[4].StartsWith("--", StringComparison.Ordinal) ? args[4] : "cpu";
    var runsAt = Array.IndexOf(args, "--runs");
    var runs = runsAt > 0 && runsAt + 1 < args.Length ? int.Parse(args[runsAt + 1], System.Globalization.CultureInfo.InvariantCulture) : 1;
    return Mage.Benchmarks.GraphProfile.Run(args[1], int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture), args[3], device, runs);
}

if (args.Length > 2 && args[0] == "check")
{
    int Arg(int i, int fallback) => args.Length > i ? int.Parse(args[i], System.Globalization.CultureInfo.InvariantCulture) : fallback;
    return await Mage.Benchmarks.DeviceCheck.RunAsync(args[1], args[2], Arg(3, 16), Arg(4, 0));
}

if (args.Length > 0 && args[0] == "coordination")
{
    return await Mage.Benchmarks.Coordination.CoordinationBench.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "compare")
{
    return await Mage.Benchmarks.Compare.RunAsync(args[1..]);
}

BenchmarkSwitcher.FromAssembly(typeof(Mage.Benchmarks.ModelBenchmarks).Assembly).Run(args);
return 0;
