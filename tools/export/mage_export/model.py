"""The whole MAGE model (VQGAN under `vqgan.`, the transformer at the top level), the ONNX graph
wrappers, and checkpoint loading with key checking."""
import math
from typing import Dict, List, Tuple

import torch
from torch import nn

from .archs import Arch, CODEBOOK_SIZE, FAKE_CLASS_ID, MASK_ID, NUM_TOKENS, TOKEN_GRID, VOCAB_SIZE
from .transformer import MageTransformer
from .vqgan import VQGAN


class MageModel(MageTransformer):
    def __init__(self, arch: Arch):
        super().__init__(arch.dim, arch.depth, arch.heads, arch.dec_dim, arch.dec_depth, arch.dec_heads,
                         vocab=VOCAB_SIZE, positions=NUM_TOKENS + 1, mask_id=MASK_ID, codebook_size=CODEBOOK_SIZE)
        self.arch = arch
        self.vqgan = VQGAN(arch.vq_ch, arch.vq_ch_mult, arch.vq_res_blocks, arch.vq_z, CODEBOOK_SIZE,
                          arch.vq_groups, arch.vq_pool)

    # The operations the graphs expose, in PyTorch, for golden outputs and the benchmarks.
    @torch.no_grad()
    def tokenize(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.vqgan.quantize.nearest(self.vqgan.encoder(pixels))

    @torch.no_grad()
    def detokenize(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.vqgan.decoder(self.vqgan.quantize.lookup(tokens, TOKEN_GRID)).clamp(0.0, 1.0)

    @torch.no_grad()
    def encode_features(self, ids: torch.Tensor):
        hidden, encoded = self.encode(ids)
        return (encoded,) + self.features(hidden, encoded)

    @torch.no_grad()
    def logits(self, ids: torch.Tensor) -> torch.Tensor:
        _, encoded = self.encode(ids)
        return self.decode(encoded, ids)


class TokenizerGraph(nn.Module):
    """The tokenizer graph: the VQGAN encoder, then the nearest-code search in float64."""

    def __init__(self, model: MageModel):
        super().__init__()
        self.vqgan = model.vqgan

    def forward(self, pixels):
        return self.vqgan.quantize.nearest_float64(self.vqgan.encoder(pixels))


class EncoderGraph(nn.Module):
    def __init__(self, model: MageModel):
        super().__init__()
        self.model = model

    def forward(self, ids):
        hidden, encoded = self.model.encode(ids)
        linprobe, cls, mean = self.model.features(hidden, encoded)
        return encoded, linprobe, cls, mean


class DecoderGraph(nn.Module):
    def __init__(self, model: MageModel):
        super().__init__()
        self.model = model

    def forward(self, encoded, ids):
        return self.model.decode(encoded, ids)


class DetokenizerGraph(nn.Module):
    def __init__(self, model: MageModel):
        super().__init__()
        self.vqgan = model.vqgan

    def forward(self, tokens):
        return self.vqgan.decoder(self.vqgan.quantize.lookup(tokens, TOKEN_GRID)).clamp(0.0, 1.0)


def required_tensors(model: MageModel) -> Dict[str, Tuple[int, ...]]:
    """Every tensor the inference graphs need, by checkpoint key."""
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


class CheckpointMismatch(Exception):
    def __init__(self, arch: str, missing: List[str], misshaped: List[Tuple[str, tuple, tuple]], hint: str):
        self.missing, self.misshaped = missing, misshaped
        lines = [f"checkpoint does not match arch '{arch}': {len(missing)} missing and "
                 f"{len(misshaped)} mis-shaped tensors{hint}"]
        lines += [f"  missing: {k}" for k in missing]
        lines += [f"  mis-shaped: {k} is {list(got)}, expected {list(want)}" for k, got, want in misshaped]
        super().__init__("\n".join(lines))


def guess_arch(state: Dict[str, torch.Tensor]) -> str:
    w = state.get("token_emb.word_embeddings.weight")
    if not isinstance(w, torch.Tensor) or w.dim() != 2:
        return ""
    width = w.shape[1]
    depth = 1 + max((int(k.split(".")[1]) for k in state if k.startswith("blocks.") and k.split(".")[1].isdigit()),
                    default=-1)
    for name, arch in ARCHS_BY_WIDTH.items():
        if arch == (width, depth):
            return name
    return f"width {width}, {depth} encoder blocks"


ARCHS_BY_WIDTH = {"tiny": (64, 2), "mini": (128, 4), "mini-half-wide": (256, 6), "vit-base": (768, 12), "vit-large": (1024, 24)}


def load_state(model: MageModel, state: Dict[str, torch.Tensor]) -> None:
    """Checks every needed tensor by name and shape, then loads them. Extra (training-only)
    tensors are ignored."""
    missing, misshaped = [], []
    for key, shape in required_tensors(model).items():
        value = state.get(key)
        if not isinstance(value, torch.Tensor):
            missing.append(key)
        elif tuple(value.shape) != shape:
            misshaped.append((key, tuple(value.shape), shape))
    if missing or misshaped:
        guess = guess_arch(state)
        hint = f" (it looks like {guess})" if guess and guess != model.arch.name else ""
        raise CheckpointMismatch(model.arch.name, missing, misshaped, hint)
    wanted = required_tensors(model)
    model.load_state_dict({k: state[k].float() for k in wanted}, strict=True)


def random_init(model: MageModel, seed: int) -> None:
    """Seeded random weights whose outputs are diverse: a codebook drawn from the encoder's own
    outputs, token and decoder position embeddings wide enough that masked positions differ, word
    embeddings scaled so logits are neither flat nor one-hot, and a decoder scaled into [0,1]."""
    from .synthetic import synthetic_images

    torch.manual_seed(seed)
    for m in model.modules():
        # Every layer is drawn again after seeding: construction drew from the unseeded generator.
        if isinstance(m, (nn.Conv2d, nn.Embedding)):
            m.reset_parameters()
        elif isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)
            nn.init.normal_(m.bias, std=0.02)
        elif isinstance(m, nn.LayerNorm):
            nn.init.normal_(m.weight, mean=1.0, std=0.1)
            nn.init.normal_(m.bias, std=0.1)
        elif isinstance(m, nn.GroupNorm):
            nn.init.normal_(m.weight, mean=1.0, std=0.1)
            nn.init.normal_(m.bias, std=0.1)
    d = model.arch.dim
    nn.init.normal_(model.token_emb.word_embeddings.weight, std=3.0 / math.sqrt(d))
    nn.init.normal_(model.token_emb.position_embeddings.weight, std=1.0)
    nn.init.normal_(model.decoder_pos_embed_learned, std=1.0)
    nn.init.normal_(model.mlm_layer.bias, std=0.5)

    model.eval()
    with torch.no_grad():
        images = synthetic_images(16, seed=seed + 1)
        pixels = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255.0
        z = model.vqgan.encoder(pixels)
        vectors = z.permute(0, 2, 3, 1).reshape(-1, z.shape[1])
        g = torch.Generator().manual_seed(seed + 2)
        pick = torch.randperm(vectors.shape[0], generator=g)[:CODEBOOK_SIZE]
        codes = vectors[pick] + 0.01 * vectors.std() * torch.randn(CODEBOOK_SIZE, vectors.shape[1], generator=g)
        model.vqgan.quantize.embedding.weight.copy_(codes)

        # Scale the decoder's last conv so decoded pixels spread over [0,1] instead of clipping.
        dec = model.vqgan.decoder
        tokens = model.vqgan.quantize.nearest(z[:4])
        raw = dec(model.vqgan.quantize.lookup(tokens, TOKEN_GRID))
        mean = raw.mean(dim=(0, 2, 3))
        std = raw.std(dim=(0, 2, 3)).clamp_min(1e-6)
        scale = 0.2 / std
        dec.conv_out.weight.mul_(scale.view(-1, 1, 1, 1))
        dec.conv_out.bias.copy_((dec.conv_out.bias - mean) * scale + 0.5)
