using Mage.Inference.Numpy;

namespace Mage.Inference.Tests.Numpy;

/// <summary>NPY/NPZ files exchanged with real numpy in both directions.</summary>
public sealed class NumpyInteropTests(NumpyFixtures fixtures) : IClassFixture<NumpyFixtures>
{
    [PythonFact]
    public void Reads_every_supported_dtype_written_by_numpy()
    {
        var f4 = NpyFile.Read(fixtures.Path("f4.npy"));
        Assert.Equal(NpyDType.Float32, f4.DType);
        Assert.Equal([2, 3], f4.Shape);
        Assert.Equal([0f, 0.25f, 0.5f, 0.75f, 1f, 1.25f], f4.AsFloat32().ToArray());

        var f8 = NpyFile.Read(fixtures.Path("f8.npy"));
        Assert.Equal([1.5, -2.25, 1e300], f8.AsFloat64().ToArray());

        var i8 = NpyFile.Read(fixtures.Path("i8.npy"));
        Assert.Equal([2, 2], i8.Shape);
        Assert.Equal([-(1L << 62), 0, 1L << 40, 7], i8.AsInt64().ToArray());

        var i4 = NpyFile.Read(fixtures.Path("i4.npy"));
        Assert.Equal([-3, -2, -1, 0, 1, 2], i4.AsInt32().ToArray());
        Assert.Equal([-3L, -2, -1, 0, 1, 2], i4.ToInt64Array());

        var u1 = NpyFile.Read(fixtures.Path("u1.npy"));
        Assert.Equal([16, 16], u1.Shape);
        Assert.Equal(Enumerable.Range(0, 256).Select(i => (byte)i), u1.AsUInt8().ToArray());

        var b1 = NpyFile.Read(fixtures.Path("b1.npy"));
        Assert.Equal([true, false, true], b1.AsBool().ToArray());
    }

    [PythonFact]
    public void Reads_scalars_empty_arrays_and_version_2()
    {
        var scalar = NpyFile.Read(fixtures.Path("scalar.npy"));
        Assert.Empty(scalar.Shape);
        Assert.Equal([3.5f], scalar.AsFloat32().ToArray());

        var empty = NpyFile.Read(fixtures.Path("empty.npy"));
        Assert.Equal([0, 3], empty.Shape);
        Assert.Equal(0, empty.Length);

        var v2 = NpyFile.Read(fixtures.Path("v2.npy"));
        Assert.Equal([0L, 1, 2, 3], v2.AsInt64().ToArray());
    }

    [PythonFact]
    public void Refuses_fortran_order_big_endian_and_complex_with_clear_messages()
    {
        var fortran = Assert.Throws<NpyFormatException>(() => NpyFile.Read(fixtures.Path("fortran.npy")));
        Assert.Contains("Fortran order", fortran.Message);

        var big = Assert.Throws<NpyFormatException>(() => NpyFile.Read(fixtures.Path("bigendian.npy")));
        Assert.Contains("'>f4'", big.Message);
        Assert.Contains("Big-endian", big.Message);

        var complex = Assert.Throws<NpyFormatException>(() => NpyFile.Read(fixtures.Path("complex.npy")));
        Assert.Contains("'<c8'", complex.Message);
        Assert.Contains("<f4, <f8, <i8, <i4, |u1, |b1", complex.Message);
    }

    [PythonFact]
    public void Reads_stored_and_compressed_npz()
    {
        foreach (var name in new[] { "stored.npz", "compressed.npz" })
        {
            var arrays = NpzFile.Read(fixtures.Path(name));

            Assert.Equal(["generate_steps", "images", "linprobe", "tokens"], arrays.Keys.Order());
            Assert.Equal([2, 4, 4, 3], arrays["images"].Shape);
            Assert.Equal(Enumerable.Range(0, 96).Select(i => (byte)i), arrays["images"].AsUInt8().ToArray());
            Assert.Equal(Enumerable.Range(0, 8).Select(i => (long)i), arrays["tokens"].ToInt64Array());
            Assert.Equal([-1f, -0.6f, -0.2f, 0.2f, 0.6f, 1f], arrays["linprobe"].ToFloat32Array(), (a, b) => Math.Abs(a - b) < 1e-6f);
            Assert.Empty(arrays["generate_steps"].Shape);
            Assert.Equal([12L], arrays["generate_steps"].ToInt64Array());
        }
    }

    [PythonFact]
    public void Numpy_reads_what_we_write()
    {
        var dir = fixtures.Path("from-csharp");
        Directory.CreateDirectory(dir);
        Save(dir, "f4.npy", s => NpyFile.Write<float>(s, [0.1f, -2f, float.MaxValue, 0f, 1e-30f, 3f], [2, 3]));
        Save(dir, "f8.npy", s => NpyFile.Write<double>(s, [Math.PI, -1e-300], [2]));
        Save(dir, "i8.npy", s => NpyFile.Write<long>(s, [long.MinValue, long.MaxValue, 5], [3, 1]));
        Save(dir, "i4.npy", s => NpyFile.Write<int>(s, [int.MinValue, 0, int.MaxValue, 9], [2, 2]));
        Save(dir, "u1.npy", s => NpyFile.Write<byte>(s, [0, 128, 255], [3]));
        Save(dir, "b1.npy", s => NpyFile.Write<bool>(s, [true, false], [2]));
        Save(dir, "scalar.npy", s => NpyFile.Write<long>(s, [42], []));
        Save(dir, "empty.npy", s => NpyFile.Write<float>(s, [], [0, 5]));
        var npzArrays = new[]
        {
            ("tokens", NpyArray.Create<long>([1, 2, 3, 4], [2, 2])),
            ("pixels", NpyArray.Create<float>([0.5f, 0.25f], [1, 2])),
        };
        NpzFile.Write(Path.Combine(dir, "stored.npz"), npzArrays);
        NpzFile.Write(Path.Combine(dir, "compressed.npz"), npzArrays, compressed: true);

        var output = Python.Run(
            """
            import os, sys, zipfile
            import numpy as np
            d = sys.argv[1]
            def load(name, dtype, shape):
                path = os.path.join(d, name)
                with open(path, 'rb') as f:
                    version = np.lib.format.read_magic(f)
                    np.lib.format._read_array_header(f, version)
                    assert f.tell() % 64 == 0, (name, f.tell())
                a = np.load(path, mmap_mode='r')
                assert a.dtype == np.dtype(dtype), (name, a.dtype)
                assert a.shape == shape, (name, a.shape)
                assert a.flags['C_CONTIGUOUS']
                return np.asarray(a)
            assert (load('f4.npy', '<f4', (2, 3)) == np.array([[0.1, -2, np.finfo(np.float32).max], [0, 1e-30, 3]], dtype='<f4')).all()
            assert (load('f8.npy', '<f8', (2,)) == np.array([np.pi, -1e-300])).all()
            assert (load('i8.npy', '<i8', (3, 1)).ravel() == [-2**63, 2**63 - 1, 5]).all()
            assert (load('i4.npy', '<i4', (2, 2)).ravel() == [-2**31, 0, 2**31 - 1, 9]).all()
            assert (load('u1.npy', '|u1', (3,)) == [0, 128, 255]).all()
            assert (load('b1.npy', '|b1', (2,)) == [True, False]).all()
            assert load('scalar.npy', '<i8', ()) == 42
            assert load('empty.npy', '<f4', (0, 5)).size == 0
            for name, method in (('stored.npz', zipfile.ZIP_STORED), ('compressed.npz', zipfile.ZIP_DEFLATED)):
                with zipfile.ZipFile(os.path.join(d, name)) as z:
                    assert sorted(i.filename for i in z.infolist()) == ['pixels.npy', 'tokens.npy']
                    assert all(i.compress_type == method for i in z.infolist()), name
                with np.load(os.path.join(d, name)) as z:
                    assert z['tokens'].dtype == np.int64 and (z['tokens'] == [[1, 2], [3, 4]]).all()
                    assert z['pixels'].dtype == np.float32 and (z['pixels'] == [[0.5, 0.25]]).all()
            print('verified')
            """,
            dir);

        Assert.Equal("verified", output.Trim());
    }

    private static void Save(string dir, string name, Action<Stream> write)
    {
        using var stream = File.Create(Path.Combine(dir, name));
        write(stream);
    }
}
