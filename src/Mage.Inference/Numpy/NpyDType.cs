namespace Mage.Inference.Numpy;

/// <summary>The numpy element types Mage reads and writes, all little-endian.</summary>
public enum NpyDType
{
    /// <summary><c>&lt;f4</c>, <see cref="float"/>.</summary>
    Float32,

    /// <summary><c>&lt;f8</c>, <see cref="double"/>.</summary>
    Float64,

    /// <summary><c>&lt;i8</c>, <see cref="long"/>.</summary>
    Int64,

    /// <summary><c>&lt;i4</c>, <see cref="int"/>.</summary>
    Int32,

    /// <summary><c>|u1</c>, <see cref="byte"/>.</summary>
    UInt8,

    /// <summary><c>|b1</c>, <see cref="bool"/> stored as one byte, 0 or 1.</summary>
    Bool,
}
