using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Mage.Benchmarks.ModelBenchmarks).Assembly).Run(args);
