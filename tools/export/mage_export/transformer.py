"""The MAGE token transformer at inference (docs/model.md#transformer).

Parameter names follow the official checkpoint so that its state dict loads as is. Dropout and
token dropping exist only in training and are absent here.

Exported graphs run attention as one ONNX Runtime contrib op, `com.microsoft.MultiHeadAttention`
(see `fused_attention`); PyTorch's own outputs (golden files, training) always take the plain path.
"""
from contextlib import contextmanager
from typing import Iterator

import torch
from torch import nn
import torch.nn.functional as F

# The contrib domain and version the exported graphs import (torch.onnx.export's custom_opsets).
CONTRIB_DOMAIN = "com.microsoft"
CONTRIB_OPSET = 1
FUSED_ATTENTION_OP = "MultiHeadAttention"


def _attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, heads: int, scale: float) -> torch.Tensor:
    """softmax(q k^T * scale) v per head; q, k, v and the result are [B, S, heads * head_dim]."""
    b, n, c = q.shape
    q, k, v = (t.reshape(b, n, heads, c // heads).transpose(1, 2) for t in (q, k, v))
    attn = ((q @ k.transpose(-2, -1)) * scale).softmax(dim=-1)
    return (attn @ v).transpose(1, 2).reshape(b, n, c)


class _MultiHeadAttentionOp(torch.autograd.Function):
    """Plain attention in PyTorch; one `com.microsoft.MultiHeadAttention` node in ONNX.

    MultiHeadAttention rather than the packed `com.microsoft.Attention`: both run on ONNX
    Runtime's CPU and CUDA providers, but Attention takes the QKV weights and bias inside the op,
    where int8.py cannot reach them (ONNX Runtime would need its separate QAttention op), while
    MultiHeadAttention takes q, k and v as [B, S, hidden] after an ordinary MatMul + Add, which int8
    packages quantize like every other projection and fp16 packages convert like any other weight.
    """

    @staticmethod
    def forward(ctx, q, k, v, heads: int, scale: float):  # noqa: D102 - traced only for shapes
        return _attend(q, k, v, heads, scale)

    @staticmethod
    def symbolic(g, q, k, v, heads: int, scale: float):
        out = g.op(f"{CONTRIB_DOMAIN}::{FUSED_ATTENTION_OP}", q, k, v, num_heads_i=heads, scale_f=scale)
        out.setType(q.type())  # [B, S, hidden] like q: keeps shapes known after the op
        return out


@contextmanager
def fused_attention(model: nn.Module) -> Iterator[None]:
    """While active, every `Attention` in `model` computes through the fused op, for
    torch.onnx.export (pass custom_opsets={CONTRIB_DOMAIN: CONTRIB_OPSET}). Outside it, the
    official computation runs; golden outputs must come from there."""
    modules = [m for m in model.modules() if isinstance(m, Attention)]
    for m in modules:
        m.fused = True
    try:
        yield
    finally:
        for m in modules:
            m.fused = False


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=True)
        self.proj = nn.Linear(dim, dim)
        self.fused = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, c = x.shape
        if self.fused:
            # The qkv output's last axis is [3, heads, head_dim], so thirds are q, k and v with
            # heads in the order MultiHeadAttention splits its hidden axis.
            q, k, v = self.qkv(x).split(self.qkv.out_features // 3, dim=-1)  # a constant-size Split
            return self.proj(_MultiHeadAttentionOp.apply(q, k, v, self.heads, float(self.scale)))
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = (q @ k.transpose(-2, -1)) * self.scale
        attn = attn.softmax(dim=-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(b, n, c))


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, dim: int, heads: int, mlp_ratio: float = 4.0):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class TokenEmbedding(nn.Module):
    def __init__(self, vocab: int, dim: int, positions: int):
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab, dim)
        self.position_embeddings = nn.Embedding(positions, dim)
        self.LayerNorm = nn.LayerNorm(dim, eps=1e-6)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.word_embeddings(ids) + self.position_embeddings.weight[: ids.shape[1]])


class MlmLayer(nn.Module):
    def __init__(self, dec_dim: int, dim: int, vocab: int):
        super().__init__()
        self.fc = nn.Linear(dec_dim, dim)
        self.ln = nn.LayerNorm(dim)  # eps 1e-5, the PyTorch default, as in the official model
        self.bias = nn.Parameter(torch.zeros(1, 1, vocab))

    def forward(self, x: torch.Tensor, word_embeddings: torch.Tensor) -> torch.Tensor:
        return self.ln(F.gelu(self.fc(x))) @ word_embeddings.t() + self.bias


class MageTransformer(nn.Module):
    def __init__(self, dim: int, depth: int, heads: int, dec_dim: int, dec_depth: int, dec_heads: int,
                 vocab: int = 2025, positions: int = 257, mask_id: int = 2024, codebook_size: int = 1024):
        super().__init__()
        self.dim = dim
        self.mask_id = mask_id
        self.register_buffer("_unit_scale", torch.ones(dim), persistent=False)
        self.register_buffer("_zero_shift", torch.zeros(dim), persistent=False)
        self.codebook_size = codebook_size
        self.token_emb = TokenEmbedding(vocab, dim, positions)
        self.blocks = nn.ModuleList([Block(dim, heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.decoder_embed = nn.Linear(dim, dec_dim, bias=True)
        self.decoder_pos_embed_learned = nn.Parameter(torch.zeros(1, positions, dec_dim))
        self.decoder_blocks = nn.ModuleList([Block(dec_dim, dec_heads) for _ in range(dec_depth)])
        self.decoder_norm = nn.LayerNorm(dec_dim, eps=1e-6)
        self.mlm_layer = MlmLayer(dec_dim, dim, vocab)

    def encode(self, ids: torch.Tensor):
        """ids [N,257] -> (blocks output before `norm`, output after `norm`), both [N,257,D]."""
        x = self.token_emb(ids)
        for block in self.blocks:
            x = block(x)
        return x, self.norm(x)

    def features(self, hidden: torch.Tensor, encoded: torch.Tensor):
        """The three pooled features of docs/model.md#pooling-modes: (linprobe, cls, mean), each [N,D]."""
        pooled = hidden[:, 1:].mean(dim=1)
        # No affine parameters; explicit ones/zeros because opset 17's LayerNormalization needs a scale.
        linprobe = F.layer_norm(pooled, (self.dim,), self._unit_scale, self._zero_shift, eps=1e-6)
        return linprobe, encoded[:, 0], encoded[:, 1:].mean(dim=1)

    def decode(self, encoded: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        """-> codebook logits [N,256,1024] of positions 1..256."""
        x = self.decoder_embed(encoded)
        masked = (ids == self.mask_id).unsqueeze(-1)
        x = torch.where(masked, x[:, 0:1].expand_as(x), x)
        x = x + self.decoder_pos_embed_learned
        for block in self.decoder_blocks:
            x = block(x)
        x = self.decoder_norm(x)
        logits = self.mlm_layer(x, self.token_emb.word_embeddings.weight)
        return logits[:, 1:, : self.codebook_size]
