using System.Globalization;
using Mage.Inference.Batching;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mage.Inference.Tests.Batching;

public sealed class BatcherOptionsTests
{
    [Fact]
    public void Defaults_AreValid_AndMatchTheDocumentedValues()
    {
        var options = new BatcherOptions();

        options.Validate();
        Assert.Equal(32, options.MaxBatchSize);
        Assert.Equal(TimeSpan.FromMilliseconds(5), options.MaxWait);
        Assert.Equal(4096, options.MaxQueueLength);
        Assert.Equal(1, options.MaxConcurrentBatches);
    }

    [Theory]
    [InlineData(nameof(BatcherOptions.MaxBatchSize), "0", "MaxBatchSize is 0; it must be between 1 and 1024.")]
    [InlineData(nameof(BatcherOptions.MaxBatchSize), "1025", "MaxBatchSize is 1025; it must be between 1 and 1024.")]
    [InlineData(nameof(BatcherOptions.MaxWait), "-1", "MaxWait is -1 ms; it must be between 0 ms and 1000 ms.")]
    [InlineData(nameof(BatcherOptions.MaxWait), "1001", "MaxWait is 1001 ms; it must be between 0 ms and 1000 ms.")]
    [InlineData(nameof(BatcherOptions.MaxQueueLength), "0", "MaxQueueLength is 0; it must be between 1 and 1000000.")]
    [InlineData(nameof(BatcherOptions.MaxConcurrentBatches), "0", "MaxConcurrentBatches is 0; it must be between 1 and 64.")]
    public void Validate_OutOfRange_NamesSettingValueAndValidRange(string setting, string value, string expectedMessage)
    {
        var options = WithSetting(setting, value);

        var exception = Assert.Throws<ArgumentOutOfRangeException>(options.Validate);

        Assert.Equal(setting, exception.ParamName);
        Assert.StartsWith(expectedMessage, exception.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("  ")]
    public void Validate_BlankName_Throws(string name)
    {
        var exception = Assert.Throws<ArgumentException>(new BatcherOptions { Name = name }.Validate);

        Assert.Equal(nameof(BatcherOptions.Name), exception.ParamName);
        Assert.Contains("must be a non-empty name", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Batcher_RejectsInvalidOptions_AtConstruction()
    {
        var batchFunction = new RecordingBatchFunction();

        var exception = Assert.Throws<ArgumentOutOfRangeException>(() => new RequestBatcher<int, int>(
            new BatcherOptions { MaxBatchSize = 0 }, NullLogger.Instance, batchFunction.InvokeAsync));

        Assert.Equal(nameof(BatcherOptions.MaxBatchSize), exception.ParamName);
    }

    [Fact]
    public void Batcher_RejectsNullArguments()
    {
        var batchFunction = new RecordingBatchFunction();

        Assert.Throws<ArgumentNullException>(() => new RequestBatcher<int, int>(null!, NullLogger.Instance, batchFunction.InvokeAsync));
        Assert.Throws<ArgumentNullException>(() => new RequestBatcher<int, int>(new BatcherOptions(), null!, batchFunction.InvokeAsync));
        Assert.Throws<ArgumentNullException>(() => new RequestBatcher<int, int>(new BatcherOptions(), NullLogger.Instance, null!));
    }

    private static BatcherOptions WithSetting(string setting, string value)
    {
        var number = int.Parse(value, CultureInfo.InvariantCulture);
        return setting switch
        {
            nameof(BatcherOptions.MaxBatchSize) => new BatcherOptions { MaxBatchSize = number },
            nameof(BatcherOptions.MaxWait) => new BatcherOptions { MaxWait = TimeSpan.FromMilliseconds(number) },
            nameof(BatcherOptions.MaxQueueLength) => new BatcherOptions { MaxQueueLength = number },
            nameof(BatcherOptions.MaxConcurrentBatches) => new BatcherOptions { MaxConcurrentBatches = number },
            _ => throw new ArgumentOutOfRangeException(nameof(setting), setting, "Unknown setting."),
        };
    }
}
