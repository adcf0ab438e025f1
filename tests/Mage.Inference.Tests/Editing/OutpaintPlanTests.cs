using Mage.Inference.Editing;

namespace Mage.Inference.Tests.Editing;

public sealed class OutpaintPlanTests
{
    private const int Window = 256;

    public static TheoryData<int, int, int, int, int, int> Layouts() => new()
    {
        { 256, 256, 128, 128, 0, 0 },
        { 256, 256, 0, 0, 0, 512 },
        { 256, 256, 10, 0, 0, 0 },
        { 512, 384, 300, 0, 40, 700 },
        { 1024, 768, 64, 64, 64, 64 },
        { 100, 300, 100, 56, 0, 0 },
        { 64, 64, 96, 96, 96, 96 },
        { 300, 200, 0, 1, 56, 0 },
        { 256, 256, 600, 600, 600, 600 },
        { 333, 271, 17, 250, 3, 129 },
    };

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Windows_cover_the_canvas_and_each_sees_known_pixels_when_processed(int width, int height, int left, int right, int top, int bottom)
    {
        var plan = OutpaintPlan.Create(width, height, left, right, top, bottom);

        Assert.Equal(width + left + right, plan.CanvasWidth);
        Assert.Equal(height + top + bottom, plan.CanvasHeight);
        Assert.Equal(new PixelBox(left, top, width, height), plan.Original);
        bool[] known = new bool[plan.CanvasWidth * plan.CanvasHeight];
        Mark(known, plan.CanvasWidth, left, top, width, height);
        foreach (var window in plan.Windows)
        {
            Assert.InRange(window.X, 0, plan.CanvasWidth - Window);
            Assert.InRange(window.Y, 0, plan.CanvasHeight - Window);

            int context = 0;
            var unknown = new bool[256];
            for (int y = 0; y < Window; y++)
            {
                for (int x = 0; x < Window; x++)
                {
                    if (known[((window.Y + y) * plan.CanvasWidth) + window.X + x])
                    {
                        context++;
                    }
                    else
                    {
                        unknown[((y / 16) * 16) + (x / 16)] = true;
                    }
                }
            }

            Assert.True(context > 0, $"window ({window.X}, {window.Y}) has no context");
            Assert.True(context < Window * Window, $"window ({window.X}, {window.Y}) has nothing to generate");
            Assert.Equal(context, window.KnownPixels);
            Assert.Equal(new TokenMask(unknown), window.Unknown);
            Mark(known, plan.CanvasWidth, window.X, window.Y, Window, Window);
        }

        Assert.All(known, Assert.True);
    }

    [Fact]
    public void Random_layouts_cover_the_canvas_with_context_for_every_window()
    {
        var random = new Random(7);
        int planned = 0;
        for (int trial = 0; trial < 150; trial++)
        {
            int width = random.Next(1, 700), height = random.Next(1, 700);
            int[] margins = [.. Enumerable.Range(0, 4).Select(_ => random.Next(3) == 0 ? 0 : random.Next(1, 700))];
            OutpaintPlan plan;
            try
            {
                plan = OutpaintPlan.Create(width, height, margins[0], margins[1], margins[2], margins[3]);
            }
            catch (InvalidRequestException)
            {
                continue; // canvas too small, no margins, or too many windows: covered elsewhere
            }

            planned++;
            bool[] known = new bool[plan.CanvasWidth * plan.CanvasHeight];
            Mark(known, plan.CanvasWidth, plan.Original.X, plan.Original.Y, width, height);
            foreach (var window in plan.Windows)
            {
                Assert.True(window.KnownPixels > 0);
                Mark(known, plan.CanvasWidth, window.X, window.Y, Window, Window);
            }

            Assert.All(known, Assert.True);
        }

        Assert.True(planned > 50, $"only {planned} random layouts were valid");
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Windows_go_outward_from_the_original(int width, int height, int left, int right, int top, int bottom)
    {
        var plan = OutpaintPlan.Create(width, height, left, right, top, bottom);

        long previous = 0;
        foreach (var window in plan.Windows)
        {
            long reach = Math.Max(
                Math.Max(left - window.X, window.X + Window - (left + width)),
                Math.Max(top - window.Y, window.Y + Window - (top + height)));
            Assert.True(reach >= previous, $"window ({window.X}, {window.Y}) reaches {reach} after one reaching {previous}");
            previous = reach;
        }
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Unclamped_windows_sit_on_the_original_token_grid(int width, int height, int left, int right, int top, int bottom)
    {
        var plan = OutpaintPlan.Create(width, height, left, right, top, bottom);

        foreach (var window in plan.Windows)
        {
            if (window.X != 0 && window.X != plan.CanvasWidth - Window)
            {
                Assert.Equal(0, (window.X - left) % 16);
            }

            if (window.Y != 0 && window.Y != plan.CanvasHeight - Window)
            {
                Assert.Equal(0, (window.Y - top) % 16);
            }
        }
    }

    [Theory]
    [InlineData(256, 256, 0, 600, 0, 0)]
    [InlineData(512, 512, 300, 300, 300, 300)]
    [InlineData(1024, 768, 64, 64, 64, 64)]
    [InlineData(256, 256, 600, 600, 600, 600)]
    public void With_a_large_enough_original_every_window_keeps_half_a_window_of_context(int width, int height, int left, int right, int top, int bottom)
    {
        var plan = OutpaintPlan.Create(width, height, left, right, top, bottom);

        Assert.All(plan.Windows, window => Assert.True(
            window.KnownPixels >= Window * Window / 2,
            $"window ({window.X}, {window.Y}) has {window.KnownPixels} known pixels"));
    }

    [Fact]
    public void A_one_sided_extension_steps_out_by_half_a_window()
    {
        var plan = OutpaintPlan.Create(512, 512, 0, 300, 0, 0);

        // x: 384 holds 128 original columns, 512 holds the 128 columns 384 filled, and the last
        // window is pushed back inside the 812-pixel canvas.
        Assert.Equal([384, 384, 384, 512, 512, 512, 556, 556, 556], plan.Windows.Select(w => w.X));
        Assert.Equal([0, 128, 256], plan.Windows.Take(3).Select(w => w.Y).Order());
        Assert.Equal(128, plan.Windows[0].Unknown.Count);
    }

    [Fact]
    public void A_small_extension_fits_one_window()
    {
        var plan = OutpaintPlan.Create(256, 256, 10, 0, 0, 0);

        var window = Assert.Single(plan.Windows);
        Assert.Equal((0, 0), (window.X, window.Y));
        Assert.Equal(16, window.Unknown.Count);
    }

    [Theory]
    [InlineData(256, 256, 0, 0, 0, 0, "at least one")]
    [InlineData(256, 256, -1, 0, 0, 0, "left is -1")]
    [InlineData(256, 256, 0, 4097, 0, 0, "right is 4097")]
    [InlineData(0, 256, 10, 0, 0, 0, "width is 0")]
    [InlineData(256, 5000, 10, 0, 0, 0, "height is 5000")]
    [InlineData(100, 100, 50, 50, 0, 0, "Upscale")]
    [InlineData(4096, 4096, 4096, 4096, 4096, 4096, "windows")]
    public void Invalid_requests_are_explained(int width, int height, int left, int right, int top, int bottom, string expected)
    {
        var error = Assert.Throws<InvalidRequestException>(() => OutpaintPlan.Create(width, height, left, right, top, bottom));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Margins_are_capped_by_MageDefaults()
    {
        var error = Assert.Throws<InvalidRequestException>(() => OutpaintPlan.Create(256, 256, 0, 0, MageDefaults.MaxOutpaintMargin + 1, 0));
        Assert.Equal($"top is {MageDefaults.MaxOutpaintMargin + 1}; it must be between 0 and {MageDefaults.MaxOutpaintMargin} pixels.", error.Message);
    }

    [Fact]
    public void Only_the_model_window_is_accepted()
    {
        var error = Assert.Throws<InvalidRequestException>(() => OutpaintPlan.Create(512, 512, 64, 0, 0, 0, window: 512));
        Assert.Contains("512", error.Message, StringComparison.Ordinal);
    }

    private static void Mark(bool[] known, int canvasWidth, int x, int y, int width, int height)
    {
        for (int row = y; row < y + height; row++)
        {
            known.AsSpan((row * canvasWidth) + x, width).Fill(true);
        }
    }
}
