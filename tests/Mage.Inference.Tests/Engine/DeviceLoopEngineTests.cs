using Mage.Inference.Decoding;
using Mage.Inference.Tests.Runtime;

namespace Mage.Inference.Tests.Engine;

public sealed class DeviceLoopEngineTests(TinyModelFixture fixture) : EngineTests(fixture)
{
    protected override DecodeLoop Loop => DecodeLoop.Device;
}
