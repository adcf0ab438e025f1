using System.Net;
using System.Text;
using System.Text.Json;
using Azure.Storage.Blobs;
using Mage.Inference.Imaging;
using Microsoft.Playwright;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using static Microsoft.Playwright.Assertions;

namespace Mage.Cli.Tests.Serve.Studio;

/// <summary>
/// The studio page (docs/studio.md) in a real browser: Debian's chromium, headless, driven by Playwright,
/// against <c>mage serve --with-worker</c> and Azurite (<see cref="StudioServer"/>). An inpaint drawn with
/// the mouse changes only its token cells; a generation shows its image; a bulk job's bar reaches 100%;
/// an upload the API refuses shows the API's message; every input is labelled and the main actions are
/// reached with Tab and Enter. No test leaves a console error (a script error or a CSP violation).
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class StudioBrowserTests(AzuriteFixture azurite, StudioServer server) : IClassFixture<StudioServer>
{
    /// <summary>How long an edit, a generation or a small job may take on the tiny model (2 steps), queue polling included.</summary>
    private const float RunTimeoutMs = 90_000;

    private const int Token = 16;

    /// <summary>Labels matched whole: "Box x" is not the Remove button of "box x 40, …", "Generate" not the "Edit or generate" section.</summary>
    private static readonly PageGetByLabelOptions Exact = new() { Exact = true };

    [Fact]
    public async Task An_inpaint_drawn_with_the_mouse_changes_only_the_boxes_token_cells_and_their_dilation()
    {
        using var temp = new TempFolder();
        var input = TestImages.SavePng(temp["cat.png"], 256, 256, seed: 501);
        await using var studio = await OpenWithImageAsync(input);
        var page = studio.Page;
        await Expect(page.Locator("#mask-summary")).ToHaveTextAsync("No area chosen yet.");

        // One box with the mouse, from (40, 40) to (90, 70) in image pixels on a canvas shown at another size.
        await DragOnCanvasAsync(page, (40.2f, 40.2f), (90.2f, 70.2f));
        await Expect(page.GetByRole(AriaRole.Listitem)).ToHaveTextAsync(["x 40, y 40, 50×30Remove"]);

        // A second box from the fields, added with Enter in a field (not submitting the form).
        await page.GetByLabel("Box x", Exact).FillAsync("192");
        await page.GetByLabel("Box y", Exact).FillAsync("200");
        await page.GetByLabel("Box width", Exact).FillAsync("20");
        await page.GetByLabel("Box height", Exact).FillAsync("8");
        await page.GetByLabel("Box height", Exact).PressAsync("Enter");
        await Expect(page.Locator("#mask-summary")).ToHaveTextAsync("To regenerate: 2 boxes.");

        await page.GetByLabel("Grow the area by (tokens of 16 pixels)", Exact).FillAsync("1");
        await page.GetByLabel("Steps", Exact).FillAsync("2");
        await page.GetByLabel("Seed", Exact).FillAsync("3");
        var submitted = await page.RunAndWaitForResponseAsync(
            () => page.GetByRole(AriaRole.Button, new() { Name = "Run" }).ClickAsync(),
            r => r.Url.EndsWith("/api/edits", StringComparison.Ordinal) && r.Request.Method == "POST");
        var answer = await submitted.TextAsync();
        Assert.True(submitted.Status == 202, $"POST /api/edits from the page answered {submitted.Status}: {answer}\n{server}");
        var requestId = JsonDocument.Parse(answer).RootElement.GetProperty("requestId").GetString()!;

        var result = page.Locator("#outputs img");
        await Expect(result).ToHaveCountAsync(1, new() { Timeout = RunTimeoutMs });
        await Expect(page.Locator("#input-image")).ToBeVisibleAsync();
        Assert.Equal(256, await result.EvaluateAsync<int>("img => img.naturalWidth"));
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = $"Download image-0.png of {requestId}" })).ToHaveAttributeAsync("download", "image-0.png");
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = $"Download tokens.npy of {requestId}" })).ToHaveAttributeAsync("download", "tokens.npy");

        // The result through the API link; outside the boxes' token cells grown by 1 token (Chebyshev), the
        // source is kept (blend on by default: equal up to the 8-bit rounding of the float round trip, 1/255).
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        using var before = Image.Load<Rgb24>(input);
        using var after = Image.Load<Rgb24>(await http.GetByteArrayAsync($"/api/edits/{requestId}/files/image-0.png"));
        Assert.Equal((256, 256), (after.Width, after.Height));
        var changedInside = 0;
        for (var y = 0; y < 256; y++)
        {
            for (var x = 0; x < 256; x++)
            {
                var diff = Difference(before[x, y], after[x, y]);
                if (InDilatedCells(x, y, [(40, 40, 50, 30), (192, 200, 20, 8)], dilate: 1))
                {
                    changedInside += diff > 1 ? 1 : 0;
                }
                else
                {
                    Assert.True(diff <= 1, $"pixel ({x},{y}) outside the edit changed by {diff}/255");
                }
            }
        }

        Assert.True(changedInside > 0, "nothing inside the boxes was regenerated");
        Assert.Empty(studio.Errors);
    }

    /// <summary>
    /// The page's side of the multipart contract of <c>POST /api/edits</c>, with the answer stubbed in the
    /// browser: a brushed area goes as a 256x256 <c>mask</c> PNG (white = regenerate) and the request
    /// part names no boxes; a problem-details refusal shows its <c>detail</c> and <c>field</c>.
    /// </summary>
    [Fact]
    public async Task A_brushed_area_is_sent_as_a_mask_part_and_a_problem_detail_is_shown_with_its_field()
    {
        using var temp = new TempFolder();
        await using var studio = await OpenWithImageAsync(TestImages.SavePng(temp["cat.png"], 256, 256, seed: 502));
        var page = studio.Page;
        byte[]? body = null;
        string? contentType = null;
        await page.RouteAsync("**/api/edits", async route =>
        {
            body = route.Request.PostDataBuffer;
            contentType = await route.Request.HeaderValueAsync("content-type");
            await route.FulfillAsync(new()
            {
                Status = 400,
                ContentType = "application/problem+json",
                Body = """{ "type": "about:blank", "title": "Bad Request", "status": 400, "detail": "The mask is not what it should be.", "field": "mask", "correlationId": "c-1" }""",
            });
        });

        await page.GetByLabel("Brush", Exact).CheckAsync();
        await page.GetByLabel("Brush size (pixels)", Exact).FillAsync("16");
        await DragOnCanvasAsync(page, (100, 100), (150, 100));
        await Expect(page.Locator("#mask-summary")).ToHaveTextAsync("To regenerate: a brushed area.");
        await page.GetByRole(AriaRole.Button, new() { Name = "Run" }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Alert).Filter(new() { HasText = "The mask is not what it should be. (field: mask)" })).ToHaveCountAsync(1);
        Assert.NotNull(body);
        var boundary = Microsoft.Net.Http.Headers.MediaTypeHeaderValue.Parse(contentType).Boundary.Value!.Trim('"');
        var parts = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var files = new Dictionary<string, string?>(StringComparer.Ordinal);
        var reader = new Microsoft.AspNetCore.WebUtilities.MultipartReader(boundary, new MemoryStream(body));
        while (await reader.ReadNextSectionAsync() is { } section)
        {
            using var copy = new MemoryStream();
            await section.Body.CopyToAsync(copy);
            var disposition = Microsoft.Net.Http.Headers.ContentDispositionHeaderValue.Parse(section.ContentDisposition);
            parts[disposition.Name.Value!.Trim('"')] = copy.ToArray();
            files[disposition.Name.Value!.Trim('"')] = disposition.FileName.Value?.Trim('"');
        }

        // The image part's bytes are not in what the browser hands an interception (a file-backed blob); its name is.
        Assert.Equal(["image", "mask", "request"], parts.Keys.Order(StringComparer.Ordinal));
        Assert.Equal([("image", "cat.png"), ("mask", "mask.png"), ("request", null)], files.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => (f.Key, f.Value)));
        using var request = JsonDocument.Parse(parts["request"]);
        Assert.Equal("inpaint", request.RootElement.GetProperty("kind").GetString());
        Assert.False(request.RootElement.TryGetProperty("boxes", out _), "a request with a mask names no boxes");
        Assert.Equal(0, request.RootElement.GetProperty("dilate").GetInt32());
        using var mask = Image.Load<Rgb24>(parts["mask"]);
        Assert.Equal((256, 256), (mask.Width, mask.Height));
        Assert.Equal(new Rgb24(255, 255, 255), mask[125, 100]);
        Assert.Equal(new Rgb24(0, 0, 0), mask[125, 120]);
        Assert.Equal(new Rgb24(0, 0, 0), mask[10, 10]);
        Assert.Empty(studio.Errors);
    }

    [Fact]
    public async Task A_generation_run_with_the_keyboard_shows_its_image()
    {
        await using var studio = await server.OpenAsync(azurite.ConnectionString);
        var page = studio.Page;

        await page.GetByLabel("Generate", Exact).CheckAsync();
        await Expect(page.GetByLabel("Image", Exact)).ToBeHiddenAsync();
        await page.GetByLabel("Count", Exact).FillAsync("1");
        await page.GetByLabel("Steps", Exact).FillAsync("2");
        await page.GetByLabel("Seed", Exact).FillAsync("11");
        await page.GetByRole(AriaRole.Button, new() { Name = "Run" }).FocusAsync();
        await page.Keyboard.PressAsync("Enter");

        await Expect(page.Locator("#run-status")).ToContainTextAsync("Generation gen-");
        var image = page.Locator("#outputs img");
        await Expect(image).ToHaveCountAsync(1, new() { Timeout = RunTimeoutMs });
        await Expect(page.Locator("#run-status")).ToContainTextAsync("completed");
        Assert.Equal(256, await image.EvaluateAsync<int>("img => img.complete ? img.naturalWidth : -1"));
        await Expect(page.Locator("#run-error")).ToBeEmptyAsync();
        Assert.Empty(studio.Errors);
    }

    [Fact]
    public async Task A_bulk_job_shows_in_the_jobs_view_and_its_bar_reaches_100()
    {
        // The page is open before the job exists: its list picks the job up on a later refresh.
        await using var studio = await server.OpenAsync(azurite.ConnectionString);
        var page = studio.Page;
        var uploads = new BlobContainerClient(azurite.ConnectionString, $"{StudioServer.Prefix}-uploads");
        await uploads.CreateIfNotExistsAsync();
        for (var i = 0; i < 3; i++)
        {
            using var image = TestImages.Create(40, 40, seed: 520 + i);
            await uploads.GetBlobClient($"bulk/img-{i}.png").UploadAsync(BinaryData.FromBytes(PngEncoding.Encode(image)), overwrite: true);
        }

        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        using (var accepted = await http.PostAsync("/api/jobs", new StringContent("""{ "jobId": "stu-job-1", "source": { "container": "stu-uploads", "prefix": "bulk/" } }""", Encoding.UTF8, "application/json")))
        {
            Assert.True(accepted.StatusCode == HttpStatusCode.Accepted, $"{accepted.StatusCode}: {await accepted.Content.ReadAsStringAsync()}\n{server}");
        }

        var bar = page.GetByRole(AriaRole.Progressbar, new() { Name = "Progress of job stu-job-1" });
        await Expect(bar).ToHaveAttributeAsync("aria-valuenow", "100", new() { Timeout = RunTimeoutMs });
        var row = page.Locator("#jobs-body tr", new() { Has = bar });
        await Expect(row.Locator("td.state")).ToHaveTextAsync("completed");
        await Expect(row.Locator("td.images")).ToHaveTextAsync("3 / 3");
        await Expect(row.Locator("td.failed-count")).ToHaveTextAsync("0");
        await Expect(row.Locator("td.throughput")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^(\d+\.\d images/s|—)$"));
        await Expect(row.Locator("td.eta")).ToHaveTextAsync("—");
        await Expect(bar).ToHaveAttributeAsync("aria-valuetext", "100%: 3 of 3 images");
        await Expect(page.Locator("#jobs-error")).ToBeEmptyAsync();
        Assert.Empty(studio.Errors);
    }

    [Fact]
    public async Task A_text_file_sent_as_the_image_shows_the_apis_error_in_an_alert()
    {
        using var temp = new TempFolder();
        await File.WriteAllTextAsync(temp["notes.txt"], "not an image");
        await using var studio = await server.OpenAsync(azurite.ConnectionString);
        var page = studio.Page;

        await page.GetByLabel("Image", Exact).SetInputFilesAsync(temp["notes.txt"]);
        await page.GetByRole(AriaRole.Button, new() { Name = "Add box" }).ClickAsync();
        await page.GetByLabel("Steps", Exact).FillAsync("2");
        var submitted = await page.RunAndWaitForResponseAsync(
            () => page.GetByRole(AriaRole.Button, new() { Name = "Run" }).ClickAsync(),
            r => r.Url.EndsWith("/api/edits", StringComparison.Ordinal) && r.Request.Method == "POST");

        // Refused at once (400/413/415), or accepted and failed when the worker cannot decode it: either way
        // the API's own words (problem details' detail, or error) are what the alert says.
        var alert = page.GetByRole(AriaRole.Alert).Filter(new() { HasTextRegex = new System.Text.RegularExpressions.Regex(".") });
        await Expect(alert).ToHaveCountAsync(1, new() { Timeout = RunTimeoutMs });
        string expected;
        if (submitted.Status == 202)
        {
            var requestId = JsonDocument.Parse(await submitted.TextAsync()).RootElement.GetProperty("requestId").GetString();
            using var http = new HttpClient { BaseAddress = server.BaseAddress };
            using var status = JsonDocument.Parse(await http.GetStringAsync($"/api/edits/{requestId}"));
            Assert.Equal("failed", status.RootElement.GetProperty("state").GetString());
            expected = status.RootElement.GetProperty("error").GetString()!;
        }
        else
        {
            Assert.InRange(submitted.Status, 400, 499);
            using var body = JsonDocument.Parse(await submitted.TextAsync());
            expected = (body.RootElement.TryGetProperty("detail", out var detail) ? detail : body.RootElement.GetProperty("error")).GetString()!;
        }

        await Expect(alert).ToContainTextAsync(expected);
        await Expect(page.Locator("#outputs img")).ToHaveCountAsync(0);
        Assert.Empty(studio.Errors);
    }

    [Fact]
    public async Task Every_input_is_labelled_and_the_main_actions_are_reached_with_tab()
    {
        await using var studio = await server.OpenAsync(azurite.ConnectionString);
        var page = studio.Page;

        var unlabelled = await page.EvaluateAsync<string[]>(
            "() => [...document.querySelectorAll('input, select, textarea, button, canvas')].filter(e => !(e.labels?.length || e.getAttribute('aria-label') || e.getAttribute('aria-labelledby') || e.textContent.trim())).map(e => e.outerHTML)");
        Assert.Empty(unlabelled);
        foreach (var label in new[] { "Function key", "Inpaint", "Outpaint", "Uncrop", "Generate", "Box", "Brush", "Brush size (pixels)", "Box x", "Box y", "Box width", "Box height", "Grow the area by (tokens of 16 pixels)", "Left", "Right", "Top", "Bottom", "Scale (above 0, below 1)", "Position x (empty: centred)", "Position y (empty: centred)", "Count", "Seed", "Steps", "Refresh every 2 seconds" })
        {
            Assert.True(await page.GetByLabel(label, Exact).CountAsync() == 1, $"GetByLabel(\"{label}\") does not find exactly one element.");
        }

        // Tab from the top reaches the file input, the canvas, the box and run buttons and the job list's refresh.
        var reached = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < 60 && !reached.Contains("refresh-jobs"); i++)
        {
            await page.Keyboard.PressAsync("Tab");
            reached.Add(await page.EvaluateAsync<string>("() => document.activeElement?.id || document.activeElement?.tagName"));
        }

        Assert.Superset(new HashSet<string> { "function-key", "image", "mask-canvas", "add-box", "run", "refresh-jobs" }, reached);

        // Enter on the focused Run with no image: the form's own check, in the alert, focus moved to the field.
        await page.Locator("#run").FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.GetByRole(AriaRole.Alert).Filter(new() { HasText = "Image is not chosen" })).ToHaveCountAsync(1);
        Assert.Equal("image", await page.EvaluateAsync<string>("() => document.activeElement?.id"));
        Assert.Empty(studio.Errors);
    }

    /// <summary>A fresh page in inpaint mode with <paramref name="image"/> chosen in its file input.</summary>
    private async Task<StudioPage> OpenWithImageAsync(string image)
    {
        var studio = await server.OpenAsync(azurite.ConnectionString);
        await studio.Page.GetByLabel("Inpaint", Exact).CheckAsync();
        await studio.Page.GetByLabel("Image", Exact).SetInputFilesAsync(image);
        return studio;
    }

    /// <summary>A mouse drag on the canvas between two points in pixels of the 256x256 image (the canvas is shown at another size).</summary>
    private static async Task DragOnCanvasAsync(IPage page, (float X, float Y) from, (float X, float Y) to)
    {
        var canvas = await page.Locator("#mask-canvas").BoundingBoxAsync() ?? throw new InvalidOperationException("The canvas is not shown.");
        var scale = canvas.Width / 256;
        await page.Mouse.MoveAsync(canvas.X + (from.X * scale), canvas.Y + (from.Y * scale));
        await page.Mouse.DownAsync();
        await page.Mouse.MoveAsync(canvas.X + (to.X * scale), canvas.Y + (to.Y * scale), new() { Steps = 5 });
        await page.Mouse.UpAsync();
    }

    /// <summary>Whether pixel (x, y) is in a 16-pixel token cell that a box touches, grown by <paramref name="dilate"/> cells in every direction (diagonals included).</summary>
    private static bool InDilatedCells(int x, int y, (int X, int Y, int W, int H)[] boxes, int dilate) =>
        boxes.Any(b => x / Token >= (b.X / Token) - dilate && x / Token <= ((b.X + b.W - 1) / Token) + dilate
            && y / Token >= (b.Y / Token) - dilate && y / Token <= ((b.Y + b.H - 1) / Token) + dilate);

    private static int Difference(Rgb24 a, Rgb24 b) => Math.Max(Math.Abs(a.R - b.R), Math.Max(Math.Abs(a.G - b.G), Math.Abs(a.B - b.B)));
}
