
namespace Mage.Inference.Editing;

/// <summary>
/// One step of an outpainting plan: a window of the canvas to tokenize, decode with
/// <see cref="Unknown"/> masked, and paste back before the next window is read.
/// </summary>
/// <param name="X">Left column of the window on the canvas, in pixels.</param>
/// <param name="Y">Top row of the window on the canvas, in pixels.</param>
/// <param name="Unknown">
/// Tokens of the window whose 16x16 patch holds any pixel that is neither original nor filled by
/// an earlier window.
/// </param>
/// <param name="KnownPixels">Pixels of the window already known when it is processed (its context).</param>
public sealed record OutpaintWindow(int X, int Y, TokenMask Unknown, int KnownPixels);
