namespace Mage.Inference.Engine;

/// <summary>Scales feature vectors to unit Euclidean length, for cosine similarity by dot product.</summary>
/// <remarks>Stateless and thread-safe.</remarks>
internal static class L2Norm
{
    /// <summary>
    /// Divides every value by the vector's L2 norm, summed in double; a zero vector stays zero.
    /// Works in place.
    /// </summary>
    public static void Normalize(float[] features)
    {
        double sum = 0;
        foreach (var v in features)
        {
            sum += (double)v * v;
        }

        var norm = Math.Sqrt(sum);
        if (norm > 0)
        {
            for (var i = 0; i < features.Length; i++)
            {
                features[i] = (float)(features[i] / norm);
            }
        }
    }
}
