using Mage.Inference.Numpy;
using Mage.Inference.Runtime;

namespace Mage.Inference.Tests.Runtime;

/// <summary>The tiny package loaded once per test class, with its golden outputs.</summary>
public sealed class TinyModelFixture : IDisposable
{
    public TinyModelFixture()
    {
        Model = MageModel.Load(new MageModelOptions { PackagePath = Fixtures.TinyPackage, Device = "cpu" });
        Golden = NpzFile.Read(Model.Package.GoldenPath!);
    }

    public MageModel Model { get; }

    public IReadOnlyDictionary<string, NpyArray> Golden { get; }

    public void Dispose() => Model.Dispose();
}
