namespace Mage.Inference.Engine;

/// <summary>
/// How far a generation or an edit of <see cref="MageEngine"/> has got, in decoding steps. Every
/// report of one call carries the same <see cref="Total"/>, so a caller can size a progress bar
/// from the first report without knowing how the engine splits the work.
/// </summary>
/// <remarks>An immutable value. The engine reports synchronously, after each step, on the thread that ran it.</remarks>
/// <param name="Done">Steps done so far over the whole call, 1 .. <paramref name="Total"/>.</param>
/// <param name="Total">
/// Steps the whole call runs: chunks x steps for generation (<see cref="MageEngineOptions.GenerateChunk"/>
/// images a chunk), windows x steps for outpainting, steps for inpainting and uncropping.
/// </param>
public readonly record struct StepProgress(int Done, int Total);
