namespace Mage.Inference.Tests.Numpy;

/// <summary>A fact that needs <c>/usr/bin/python3</c> with numpy; skipped (with the reason) only when Python itself is missing.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class PythonFactAttribute : FactAttribute
{
    public PythonFactAttribute()
    {
        if (!Python.IsAvailable)
        {
            Skip = $"{Python.Path} not found: the numpy interop tests need Python 3 with numpy (CI has it).";
        }
    }
}
