using Mage.Inference.Decoding;
using Mage.Inference.Tests.Runtime;

namespace Mage.Inference.Tests.Engine;

public sealed class HostLoopEngineTests(TinyModelFixture fixture) : EngineTests(fixture)
{
    protected override DecodeLoop Loop => DecodeLoop.Host;
}
