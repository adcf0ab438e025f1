using System.CommandLine;
using System.Globalization;
using Mage.Cli.Output;
using Mage.Inference;
using Mage.Inference.Editing;
using Mage.Inference.Engine;
using Mage.Inference.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Mage.Cli.Commands;

/// <summary><c>mage inpaint</c>, <c>mage outpaint</c> and <c>mage uncrop</c>, which share the editing schedule options.</summary>
internal static class EditCommands
{
    public static Command Inpaint(CliContext context, CommonOptions common)
    {
        var image = ImageArgument();
        var mask = new Option<string?>("--mask") { Description = "Mask image, 256x256 (the size of the preprocessed input): white = regenerate, black or transparent = keep.", HelpName = "mask.png" };
        var box = new Option<string[]>("--box") { Description = "A region to regenerate, in pixels of the preprocessed 256x256 image; repeat for several.", HelpName = "x,y,w,h" };
        var dilate = CommonOptions.Positive("--dilate", $"Grow the edited region by K tokens (16 pixels each), 0..{TokenMask.MaxDilation}. Default: 0.", 0, 0, TokenMask.MaxDilation);
        var preprocess = CommonOptions.Preprocess(MageDefaults.EditPreprocess);
        var schedule = new ScheduleOptions();
        var command = new Command("inpaint", "Regenerate the masked part of an image.") { image, mask, box, dilate, preprocess };
        schedule.AddTo(command);
        common.AddTo(command);
        common.AddImageOptionsTo(command);
        command.SetAction((parse, cancellationToken) => CliApp.GuardAsync(context, parse, async () =>
        {
            var maskPath = parse.GetValue(mask);
            var boxes = (parse.GetValue(box) ?? []).Select(ParseBox).ToList();
            if ((maskPath is null) == (boxes.Count == 0))
            {
                throw new UsageException("Give either --mask FILE or one or more --box x,y,w,h (not both) to say what to regenerate.");
            }

            var mode = parse.GetValue(preprocess);
            var imagePath = parse.GetValue(image)!;
            var options = schedule.Read(parse);
            await using var host = LoadHost(parse, common, context);
            using var input = LoadInput(host, imagePath, mode);
            TokenMask unknown;
            if (maskPath is not null)
            {
                bool[] pixels;
                try
                {
                    pixels = PixelMask.Load(await File.ReadAllBytesAsync(maskPath, cancellationToken), host.Engine.Options.Limits, MageTokens.ImageSize, MageTokens.ImageSize, maskPath);
                }
                catch (InvalidRequestException e)
                {
                    throw new InvalidRequestException(
                        $"{maskPath}: {e.Message} The mask applies to the image after --preprocess {WireNames.Of(mode)}, which is always {MageTokens.ImageSize}x{MageTokens.ImageSize}.", e);
                }

                unknown = TokenMask.FromPixelMask(pixels);
            }
            else
            {
                unknown = TokenMask.FromBoxes(boxes);
            }

            unknown = unknown.Dilate(parse.GetValue(dilate));
            using var result = await context.Progress.RunAsync("Inpainting", progress =>
                host.Engine.InpaintAsync(input, unknown, options, progress, cancellationToken));
            return Write(context, parse, schedule, result);
        }, cancellationToken));
        return command;
    }

    public static Command Outpaint(CliContext context, CommonOptions common)
    {
        var image = ImageArgument();
        Option<int> Margin(string side) => CommonOptions.Positive($"--{side}", $"Pixels to add on the {side}, 0..{OutpaintPlan.MaxSide}. Default: 0.", 0, 0, OutpaintPlan.MaxSide);
        var left = Margin("left");
        var right = Margin("right");
        var top = Margin("top");
        var bottom = Margin("bottom");
        var schedule = new ScheduleOptions();
        var command = new Command("outpaint", "Extend an image (used at its own size) beyond its edges, one 256x256 window at a time.") { image, left, right, top, bottom };
        schedule.AddTo(command);
        common.AddTo(command);
        common.AddImageOptionsTo(command);
        command.SetAction((parse, cancellationToken) => CliApp.GuardAsync(context, parse, async () =>
        {
            var (l, r, t, b) = (parse.GetValue(left), parse.GetValue(right), parse.GetValue(top), parse.GetValue(bottom));
            if (l + r + t + b == 0)
            {
                throw new UsageException("Give at least one of --left, --right, --top, --bottom (pixels to add).");
            }

            var imagePath = parse.GetValue(image)!;
            var options = schedule.Read(parse);
            await using var host = LoadHost(parse, common, context);
            using var input = host.Engine.LoadImage(await File.ReadAllBytesAsync(imagePath, cancellationToken), imagePath);
            using var result = await NamedAsync(imagePath, () => context.Progress.RunAsync("Outpainting", progress =>
                host.Engine.OutpaintAsync(input, l, r, t, b, options, progress, cancellationToken)));
            return Write(context, parse, schedule, result);
        }, cancellationToken));
        return command;
    }

    public static Command Uncrop(CliContext context, CommonOptions common)
    {
        var image = ImageArgument();
        var scale = new Option<double>("--scale") { Description = $"Side of the shrunk image relative to the 256x256 canvas, in [{MageDefaults.MinUncropScale.ToString(CultureInfo.InvariantCulture)}, 1).", Required = true, HelpName = "F" };
        var position = new Option<string?>("--position") { Description = "Top-left corner of the shrunk image on the canvas, in pixels. Default: centred.", HelpName = "x,y" };
        var preprocess = CommonOptions.Preprocess(MageDefaults.EditPreprocess);
        var schedule = new ScheduleOptions();
        var command = new Command("uncrop", "Shrink an image onto a 256x256 canvas and generate everything around it.") { image, scale, position, preprocess };
        schedule.AddTo(command);
        common.AddTo(command);
        common.AddImageOptionsTo(command);
        command.SetAction((parse, cancellationToken) => CliApp.GuardAsync(context, parse, async () =>
        {
            (int X, int Y)? at = null;
            if (parse.GetValue(position) is { } text)
            {
                var xy = ParseInts(text, 2, "--position", "x,y");
                at = (xy[0], xy[1]);
            }

            var mode = parse.GetValue(preprocess);
            var imagePath = parse.GetValue(image)!;
            var options = schedule.Read(parse);
            var factor = parse.GetValue(scale);
            try
            {
                UncropPlan.Create(factor, at);
            }
            catch (InvalidRequestException e)
            {
                throw new UsageException(e.Message);
            }

            await using var host = LoadHost(parse, common, context);
            using var input = LoadInput(host, imagePath, mode);
            using var result = await context.Progress.RunAsync("Uncropping", progress =>
                host.Engine.UncropAsync(input, factor, at, options, progress, cancellationToken));
            return Write(context, parse, schedule, result);
        }, cancellationToken));
        return command;
    }

    /// <summary>Parses <c>x,y,w,h</c>.</summary>
    /// <exception cref="UsageException">Not four integers, or a negative width or height.</exception>
    public static PixelBox ParseBox(string text)
    {
        var v = ParseInts(text, 4, "--box", "x,y,w,h");
        if (v[2] <= 0 || v[3] <= 0)
        {
            throw new UsageException($"--box '{text}' has width {v[2]} and height {v[3]}; both must be 1 or more.");
        }

        return new PixelBox(v[0], v[1], v[2], v[3]);
    }

    private static int[] ParseInts(string text, int count, string option, string format)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var values = new int[parts.Length];
        if (parts.Length != count || !parts.Select((p, i) => int.TryParse(p, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out values[i])).All(ok => ok))
        {
            throw new UsageException($"{option} '{text}' is not {format} ({count} integers separated by commas).");
        }

        return values;
    }

    private static Argument<string> ImageArgument() => new("image") { Description = "The image to edit (PNG, JPEG, WebP, BMP or GIF)." };

    private static LocalModel LoadHost(ParseResult parse, CommonOptions common, CliContext context) =>
        LocalModel.Load(parse, common, parse.GetValue(common.BatchSize), context, common.ImageLimits(parse));

    private static Image<Rgb24> LoadInput(LocalModel host, string path, PreprocessMode mode)
    {
        using var decoded = host.Engine.LoadImage(File.ReadAllBytes(path), path);
        return Named(path, () => ImagePreprocessor.Apply(decoded, mode));
    }

    /// <summary>Prefixes an invalid-request message with what it is about (the library does not know the file name).</summary>
    private static T Named<T>(string subject, Func<T> body)
    {
        try
        {
            return body();
        }
        catch (InvalidRequestException e)
        {
            throw new InvalidRequestException($"{subject}: {e.Message}", e);
        }
    }

    /// <summary>As <see cref="Named{T}"/>, for work that completes later (outpainting plans its windows inside the engine).</summary>
    private static async Task<T> NamedAsync<T>(string subject, Func<Task<T>> body)
    {
        try
        {
            return await body();
        }
        catch (InvalidRequestException e)
        {
            throw new InvalidRequestException($"{subject}: {e.Message}", e);
        }
    }

    private static int Write(CliContext context, ParseResult parse, ScheduleOptions schedule, EditResult result)
    {
        var outPath = parse.GetValue(schedule.Out)!;
        ArrayFiles.CreateParent(outPath);
        File.WriteAllBytes(outPath, PngEncoding.Encode(result.Image));
        context.Out.WriteLine($"Wrote {result.Image.Width}x{result.Image.Height} image to {outPath}.");
        if (parse.GetValue(schedule.TokensOut) is { } tokensPath)
        {
            ArrayFiles.WriteTokens(tokensPath, result.Tokens);
            context.Out.WriteLine($"Wrote the tokens of {result.Tokens.Count} window{(result.Tokens.Count == 1 ? "" : "s")} to {tokensPath}.");
        }

        return ExitCodes.Success;
    }

    /// <summary>The schedule and output options of the editing commands.</summary>
    private sealed class ScheduleOptions
    {
        public Option<int> Steps { get; } = CommonOptions.Steps(MageDefaults.EditSteps);

        public Option<double> Temperature { get; } = CommonOptions.Temperature(MageDefaults.EditTemperature);

        public Option<ulong> Seed { get; } = CommonOptions.Seed(required: false);

        public Option<bool> Deterministic { get; } = CommonOptions.Deterministic();

        public Option<bool> NoBlend { get; } = new("--no-blend") { Description = "Write every pixel of the generated tokens; by default the original pixels outside the edit are kept." };

        public Option<string> Out { get; } = CommonOptions.Out("Where to write the edited PNG.", "out.png");

        public Option<string?> TokensOut { get; } = CommonOptions.TokensOut();

        public void AddTo(Command command)
        {
            foreach (var option in new Option[] { Steps, Temperature, Seed, Deterministic, NoBlend, Out, TokensOut })
            {
                command.Options.Add(option);
            }
        }

        public EditOptions Read(ParseResult parse) => new(
            parse.GetValue(Steps), parse.GetValue(Temperature), parse.GetValue(Deterministic), parse.GetValue(Seed), Blend: !parse.GetValue(NoBlend));
    }
}
