namespace Mage.Inference.Tests.Numpy;

/// <summary>
/// Files written by real numpy, once per test class: every supported dtype, a scalar, an empty
/// array, a version 2.0 file, NPZ archives stored and deflated, and files Mage must refuse.
/// </summary>
public sealed class NumpyFixtures : IDisposable
{
    private const string Script = """
        import os, sys
        import numpy as np
        d = sys.argv[1]
        p = lambda name: os.path.join(d, name)
        np.save(p('f4.npy'), (np.arange(6, dtype='<f4') / 4).reshape(2, 3))
        np.save(p('f8.npy'), np.array([1.5, -2.25, 1e300], dtype='<f8'))
        np.save(p('i8.npy'), np.array([[-(2**62), 0], [2**40, 7]], dtype='<i8'))
        np.save(p('i4.npy'), np.arange(-3, 3, dtype='<i4'))
        np.save(p('u1.npy'), np.arange(256, dtype=np.uint8).reshape(16, 16))
        np.save(p('b1.npy'), np.array([True, False, True]))
        np.save(p('scalar.npy'), np.array(3.5, dtype=np.float32))
        np.save(p('empty.npy'), np.zeros((0, 3), dtype='<f4'))
        with open(p('v2.npy'), 'wb') as f:
            np.lib.format.write_array(f, np.arange(4, dtype='<i8'), version=(2, 0))
        np.save(p('fortran.npy'), np.asfortranarray(np.arange(6, dtype='<f4').reshape(2, 3)))
        np.save(p('bigendian.npy'), np.arange(3, dtype='>f4'))
        np.save(p('complex.npy'), np.arange(3, dtype=np.complex64))
        arrays = dict(
            images=np.arange(2 * 4 * 4 * 3, dtype=np.uint8).reshape(2, 4, 4, 3),
            tokens=np.arange(8, dtype=np.int64).reshape(2, 4),
            linprobe=np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3),
            generate_steps=np.array(12, dtype=np.int64))
        np.savez(p('stored.npz'), **arrays)
        np.savez_compressed(p('compressed.npz'), **arrays)
        print('OK')
        """;

    public NumpyFixtures()
    {
        Directory = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "mage-npy-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
        if (Python.IsAvailable)
        {
            Python.Run(Script, Directory);
        }
    }

    public string Directory { get; }

    public string Path(string name) => System.IO.Path.Combine(Directory, name);

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is not worth failing a run over.
        }
    }
}
