namespace Mage.Inference.Decoding;

/// <summary>
/// The decoding schedule of one decode call (docs/model.md#decode-schedule), the one owner shared by the host
/// loop (<see cref="HostDecodeLoop"/>) and the device loop (<see cref="DeviceDecodeLoop"/>): the
/// validated rows, the ratio (t+1)/T of step t, the mask lengths, and the counter-based random
/// draws keyed by (seed, image index, step, position, stream).
/// </summary>
/// <remarks>
/// Immutable once prepared, except <see cref="Results"/>, which the loop writes; the draws are pure
/// functions of their keys, so rows may be stepped on several threads at once.
/// </remarks>
internal sealed class DecodeSchedule
{
    /// <summary>Most rows one call accepts.</summary>
    public const int MaxRows = 1024;

    /// <summary>Random stream of the categorical samples.</summary>
    public const int SampleStream = 0;

    /// <summary>Random stream of the Gumbel noise on the confidences.</summary>
    public const int GumbelStream = 1;

    private DecodeSchedule(DecodeOptions options, long[][] results, IReadOnlyList<ActiveRow> active)
    {
        Options = options;
        Results = results;
        Active = active;
    }

    /// <summary>Steps, temperature and mode, shared by all rows.</summary>
    public DecodeOptions Options { get; }

    /// <summary>For each row of the call, in order, a copy of its initial tokens; the loop writes the chosen ids of the active rows into them.</summary>
    public long[][] Results { get; }

    /// <summary>The rows that have unknown positions, in order.</summary>
    public IReadOnlyList<ActiveRow> Active { get; }

    /// <summary>
    /// Validates a decode call and copies the initial tokens into <see cref="Results"/>; the rows
    /// with unknown positions become <see cref="Active"/>.
    /// </summary>
    /// <exception cref="InvalidRequestException">A row or an option is invalid.</exception>
    public static DecodeSchedule Prepare(IReadOnlyList<DecodeRow> rows, DecodeOptions options)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (rows.Count > MaxRows)
        {
            throw new InvalidRequestException(
                $"The request has {rows.Count} rows; at most {MaxRows} can be decoded in one call.");
        }

        var results = new long[rows.Count][];
        var active = new List<ActiveRow>();
        for (var r = 0; r < rows.Count; r++)
        {
            var row = rows[r] ?? throw new InvalidRequestException($"Row {r} is null.");
            var unknown = CodebookIds.CheckGrid(row.InitialTokens, r, maskAllowed: true);
            results[r] = (long[])row.InitialTokens.Clone();
            if (unknown > 0)
            {
                active.Add(new ActiveRow(r, row, unknown));
            }
        }

        return new DecodeSchedule(options, results, active);
    }

    /// <summary>mask_len = max(1, min(unknown_now - 1, floor(U0 * cos(pi/2 * ratio)))).</summary>
    public static int MaskLength(int initialUnknown, int unknownNow, double ratio) =>
        (int)Math.Max(1, Math.Min(unknownNow - 1, ScheduledMaskLength(initialUnknown, ratio)));

    /// <summary>floor(U0 * cos(pi/2 * ratio)): mask_len before it is clamped to the row's unknown positions.</summary>
    public static long ScheduledMaskLength(int initialUnknown, double ratio) =>
        (long)Math.Floor(initialUnknown * Math.Cos(Math.PI / 2 * ratio));

    /// <summary>The uniform draw in [0, 1) of a categorical sample at one position of one step.</summary>
    public static double Uniform(DecodeRow row, int step, int position) =>
        CounterRandom.Uniform(row.Seed, row.ImageIndex, step, position, SampleStream);

    /// <summary>(t+1)/T: how far the schedule is after step t.</summary>
    public double Ratio(int step) => (step + 1.0) / Options.Steps;

    /// <summary>Whether step t is the last, after which nothing is masked again.</summary>
    public bool IsLastStep(int step) => step == Options.Steps - 1;

    /// <summary>
    /// The scaled Gumbel noise added to a confidence: temperature * (1 - ratio) * -log(-log(u)),
    /// drawn in double and rounded to float32 like the official code.
    /// </summary>
    public float Noise(DecodeRow row, double ratio, int step, int position)
    {
        var u = CounterRandom.Uniform(row.Seed, row.ImageIndex, step, position, GumbelStream);
        return (float)(Options.Temperature * (1 - ratio) * -Math.Log(-Math.Log(u)));
    }
}
