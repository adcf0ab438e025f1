using System.Buffers;
using System.Runtime.CompilerServices;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Memory;

namespace Mage.Inference.Tests.Imaging;

/// <summary>
/// An ImageSharp allocator that counts the bytes it hands out and takes them from a fresh default
/// allocator. ImageSharp takes pixel buffers from its own pool, outside the managed heap, so
/// <see cref="GC.GetAllocatedBytesForCurrentThread"/> does not see a decode; this does.
/// </summary>
internal sealed class CountingAllocator : MemoryAllocator
{
    private readonly MemoryAllocator inner = Create();
    private long allocatedBytes;

    /// <summary>Bytes requested since creation, by every thread.</summary>
    public long AllocatedBytes => Interlocked.Read(ref allocatedBytes);

    /// <summary>A configuration whose every buffer comes from a new counting allocator.</summary>
    public static (Configuration Configuration, CountingAllocator Allocator) NewConfiguration()
    {
        var allocator = new CountingAllocator();
        var configuration = Configuration.Default.Clone();
        configuration.MemoryAllocator = allocator;
        return (configuration, allocator);
    }

    /// <inheritdoc />
    public override IMemoryOwner<T> Allocate<T>(int length, AllocationOptions options = AllocationOptions.None)
    {
        Interlocked.Add(ref allocatedBytes, (long)length * Unsafe.SizeOf<T>());
        return inner.Allocate<T>(length, options);
    }

    /// <inheritdoc />
    public override void ReleaseRetainedResources() => inner.ReleaseRetainedResources();

    /// <inheritdoc />
    protected override int GetBufferCapacityInBytes() => 4 << 20;
}
