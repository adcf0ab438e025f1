"""Loss curves as a PNG, drawn with PIL (no matplotlib here)."""
import csv
import math
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

from PIL import Image, ImageDraw

W, H, MARGIN = 560, 300, 48
COLOURS = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40)]


def read_csv(path: Path) -> List[Dict[str, float]]:
    if not path.is_file():
        return []
    with path.open() as f:
        return [{k: float(v) for k, v in row.items() if v not in ("", None)} for row in csv.DictReader(f)]


def _panel(rows, title: str, series: Sequence[str], log_y: bool) -> Image.Image:
    img = Image.new("RGB", (W, H), "white")
    d = ImageDraw.Draw(img)
    d.text((MARGIN, 8), title, fill="black")
    pts = [(r["step"], r[s]) for s in series for r in rows if s in r and (r[s] > 0 or not log_y)]
    if len(pts) < 2:
        d.text((MARGIN, H // 2), "no data yet", fill="grey")
        return img
    tf = (lambda v: math.log10(v)) if log_y else (lambda v: v)
    x0, x1 = min(p[0] for p in pts), max(p[0] for p in pts)
    y0, y1 = min(tf(p[1]) for p in pts), max(tf(p[1]) for p in pts)
    x1, y1 = (x1 if x1 > x0 else x0 + 1), (y1 if y1 > y0 else y0 + 1e-6)

    def xy(step, value):
        return (MARGIN + (step - x0) / (x1 - x0) * (W - 2 * MARGIN),
                H - MARGIN - (tf(value) - y0) / (y1 - y0) * (H - 2 * MARGIN))

    d.rectangle([MARGIN, MARGIN, W - MARGIN, H - MARGIN], outline=(160, 160, 160))
    for frac in (0.0, 0.5, 1.0):
        yv = y0 + frac * (y1 - y0)
        label = f"{10 ** yv:.3g}" if log_y else f"{yv:.3g}"
        y = H - MARGIN - frac * (H - 2 * MARGIN)
        d.text((4, y - 6), label, fill="black")
        xv = x0 + frac * (x1 - x0)
        d.text((MARGIN + frac * (W - 2 * MARGIN) - 12, H - MARGIN + 6), f"{xv:.0f}", fill="black")
    d.text((W // 2 - 12, H - 16), "step", fill="black")
    for i, s in enumerate(series):
        line = [xy(r["step"], r[s]) for r in rows if s in r and (r[s] > 0 or not log_y)]
        if len(line) >= 2:
            d.line(line, fill=COLOURS[i % len(COLOURS)], width=2)
        d.text((W - MARGIN - 150, MARGIN + 6 + 14 * i), s, fill=COLOURS[i % len(COLOURS)])
    return img


def draw(out: Path, panels: Sequence[Tuple[Path, str, Sequence[str], bool]]) -> None:
    """panels: (csv path, title, column names, log scale). One panel per row of the PNG."""
    images = [_panel(read_csv(p), title, series, log_y) for p, title, series, log_y in panels]
    sheet = Image.new("RGB", (W, H * len(images)), "white")
    for i, im in enumerate(images):
        sheet.paste(im, (0, H * i))
    sheet.save(out)
