using BenchmarkDotNet.Running;

if (args.Length > 0 && args[0] == "compare")
{
    return await Mage.Benchmarks.Compare.RunAsync(args[1..]);
}

BenchmarkSwitcher.FromAssembly(typeof(Mage.Benchmarks.ModelBenchmarks).Assembly).Run(args);
return 0;
