using BenchmarkDotNet.Running;

// A bad option value (an unknown precision mode, say) is a usage error: its message, exit 2.
try
{
    if (args.Length > 2 && args[0] == "graphs")
    {
        return Mage.Benchmarks.GraphTimes.Run(args[1], int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture), args.Length > 3 ? int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture) : 0);
    }

    // check PACKAGE DEVICE [ROWS=16] [FIXED_BATCH=0] [settings]; profile PACKAGE BATCH PREFIX [DEVICE=cpu] [--runs N] [settings]
    // (settings: EngineFlags' options).
    if (args.Length > 0 && args[0] is "check" or "profile")
    {
        int Int(string s) => int.Parse(s, System.Globalization.CultureInfo.InvariantCulture);
        var positional = new List<string>();
        var settings = new Mage.Benchmarks.EngineFlags();
        var runs = 1;
        for (var i = 1; i < args.Length; i++)
        {
            if (settings.TryParse(args, ref i))
            {
                continue;
            }

            if (args[i] == "--runs")
            {
                runs = Int(args[++i]);
            }
            else if (args[i].StartsWith("--", StringComparison.Ordinal))
            {
                await Console.Error.WriteLineAsync($"unknown option {args[i]}");
                return 2;
            }
            else
            {
                positional.Add(args[i]);
            }
        }

        string At(int i, string fallback) => positional.Count > i ? positional[i] : fallback;
        if (args[0] == "check" && positional.Count >= 2)
        {
            return await Mage.Benchmarks.DeviceCheck.RunAsync(positional[0], positional[1], Int(At(2, "16")), Int(At(3, "0")), settings);
        }

        if (args[0] == "profile" && positional.Count >= 3)
        {
            return Mage.Benchmarks.GraphProfile.Run(positional[0], Int(positional[1]), positional[2], At(3, "cpu"), runs, settings);
        }

        await Console.Error.WriteLineAsync("usage: check PACKAGE DEVICE [ROWS] [FIXED_BATCH] [--precision MODE] | profile PACKAGE BATCH PREFIX [DEVICE] [--runs N] [--precision MODE] [--conv-search S] [--buckets B] [--warm-up|--no-warm-up]");
        return 2;
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
}
catch (Mage.Inference.InvalidRequestException e)
{
    await Console.Error.WriteLineAsync(e.Message);
    return 2;
}
