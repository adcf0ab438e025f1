"""The MaskGIT VQGAN tokenizer as MAGE uses it (docs/model.md#tokenizer-vqgan).

Parameter names follow the official checkpoint's `vqgan.*` keys so that a state dict loads as is.
"""
from typing import Sequence

import torch
from torch import nn
import torch.nn.functional as F


OFFICIAL_GROUPS = 32
# The manifest's "quantizer": the type the exported tokenizer's nearest-code search computes in.
QUANTIZER_PRECISION = "float64"


def _norm(channels: int, groups: int) -> nn.GroupNorm:
    return nn.GroupNorm(num_groups=groups, num_channels=channels, eps=1e-6, affine=True)


class ResBlock(nn.Module):
    """GroupNorm-swish-conv twice. When the width changes, the 1x1 shortcut is applied to the
    block's *output* (a MaskGIT quirk kept for weight compatibility), not to its input."""

    def __init__(self, in_ch: int, out_ch: int, groups: int = OFFICIAL_GROUPS):
        super().__init__()
        self.norm1 = _norm(in_ch, groups)
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, padding=1, bias=False)
        self.norm2 = _norm(out_ch, groups)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, padding=1, bias=False)
        self.changes_width = in_ch != out_ch
        if self.changes_width:
            self.nin_shortcut = nn.Conv2d(out_ch, out_ch, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        if self.changes_width:
            return h + self.nin_shortcut(h)
        return x + h


class _Level(nn.Module):
    def __init__(self, blocks: Sequence[nn.Module]):
        super().__init__()
        self.block = nn.ModuleList(blocks)


class _Mid(nn.Module):
    def __init__(self, ch: int, groups: int = OFFICIAL_GROUPS):
        super().__init__()
        self.block_1 = ResBlock(ch, ch, groups)
        self.block_2 = ResBlock(ch, ch, groups)

    def forward(self, x):
        return self.block_2(self.block_1(x))


class _Upsample(nn.Module):
    def __init__(self, ch: int):
        super().__init__()
        self.conv = nn.Conv2d(ch, ch, 3, padding=1, bias=True)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class Encoder(nn.Module):
    def __init__(self, ch: int, ch_mult: Sequence[int], num_res_blocks: int, z_channels: int,
                 groups: int = OFFICIAL_GROUPS, pool: int = 1):
        super().__init__()
        self.pool = pool  # Arch.vq_pool
        self.conv_in = nn.Conv2d(3, ch, 3, padding=1, bias=False)
        self.down = nn.ModuleList()
        in_ch = ch
        for mult in ch_mult:
            out_ch = ch * mult
            blocks = []
            for _ in range(num_res_blocks):
                blocks.append(ResBlock(in_ch, out_ch, groups))
                in_ch = out_ch
            self.down.append(_Level(blocks))
        self.mid = _Mid(in_ch, groups)
        self.norm_out = _norm(in_ch, groups)
        self.conv_out = nn.Conv2d(in_ch, z_channels, 1, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.pool > 1:
            x = F.avg_pool2d(x, kernel_size=self.pool, stride=self.pool)
        h = self.conv_in(x)
        last = len(self.down) - 1
        for i, level in enumerate(self.down):
            for block in level.block:
                h = block(h)
            if i != last:
                h = F.avg_pool2d(h, kernel_size=2, stride=2)
        h = self.mid(h)
        return self.conv_out(F.silu(self.norm_out(h)))


class Decoder(nn.Module):
    def __init__(self, ch: int, ch_mult: Sequence[int], num_res_blocks: int, z_channels: int,
                 groups: int = OFFICIAL_GROUPS, upscale: int = 1):
        super().__init__()
        self.upscale = upscale  # Arch.vq_pool
        widths = [ch * m for m in ch_mult]
        top = widths[-1]
        self.conv_in = nn.Conv2d(z_channels, top, 3, padding=1, bias=True)
        self.mid = _Mid(top, groups)
        # up[i] works at width widths[i]; it runs from the last index down to 0, as in the checkpoint.
        ups = [None] * len(widths)
        in_ch = top
        for i in reversed(range(len(widths))):
            blocks = []
            for _ in range(num_res_blocks):
                blocks.append(ResBlock(in_ch, widths[i], groups))
                in_ch = widths[i]
            level = _Level(blocks)
            if i != 0:
                level.upsample = _Upsample(in_ch)
            ups[i] = level
        self.up = nn.ModuleList(ups)
        self.norm_out = _norm(widths[0], groups)
        self.conv_out = nn.Conv2d(widths[0], 3, 3, padding=1, bias=True)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.mid(self.conv_in(z))
        for i in reversed(range(len(self.up))):
            level = self.up[i]
            for block in level.block:
                h = block(h)
            if i != 0:
                h = level.upsample(h)
        out = self.conv_out(F.silu(self.norm_out(h)))
        if self.upscale > 1:
            out = F.interpolate(out, scale_factor=float(self.upscale), mode="bilinear", align_corners=False)
        return out


class Quantizer(nn.Module):
    def __init__(self, n_codes: int, dim: int):
        super().__init__()
        self.embedding = nn.Embedding(n_codes, dim)

    def nearest(self, z: torch.Tensor) -> torch.Tensor:
        """z: [N, C, H, W] -> ids [N, H*W], row-major. Squared Euclidean distance; argmin takes the
        first index on exact ties."""
        n, c, h, w = z.shape
        flat = z.permute(0, 2, 3, 1).reshape(n, h * w, c)
        codes = self.embedding.weight
        dist = (flat * flat).sum(-1, keepdim=True) - 2.0 * flat @ codes.t() + (codes * codes).sum(-1)
        return torch.argmin(dist, dim=-1)

    def nearest_float64(self, z: torch.Tensor) -> torch.Tensor:
        """`nearest` with the distances, their sums and the argmin in float64, for the exported
        tokenizer graph (manifest "quantizer": "float64"). TF32, which a CUDA session may turn on for
        its float32 convolutions and products, never applies to double products, and float16
        packages can run the convolutions in half precision while ids still come from exact
        comparisons. Export folds the codebook's cast, transpose and squared norms into float64
        initializers. Golden outputs keep the official float32 `nearest`."""
        n, c, h, w = z.shape
        flat = z.permute(0, 2, 3, 1).reshape(n, h * w, c).double()
        codes = self.embedding.weight.double()
        dist = (flat * flat).sum(-1, keepdim=True) - 2.0 * flat @ codes.t() + (codes * codes).sum(-1)
        return torch.argmin(dist, dim=-1)

    def lookup(self, ids: torch.Tensor, grid: int) -> torch.Tensor:
        """ids [N, grid*grid] -> code vectors [N, C, grid, grid]."""
        v = self.embedding(ids)
        n = ids.shape[0]
        return v.reshape(n, grid, grid, -1).permute(0, 3, 1, 2)


class VQGAN(nn.Module):
    def __init__(self, ch: int, ch_mult: Sequence[int], num_res_blocks: int, z_channels: int, n_codes: int,
                 groups: int = OFFICIAL_GROUPS, pool: int = 1):
        super().__init__()
        self.encoder = Encoder(ch, ch_mult, num_res_blocks, z_channels, groups, pool)
        self.decoder = Decoder(ch, ch_mult, num_res_blocks, z_channels, groups, pool)
        self.quantize = Quantizer(n_codes, z_channels)
