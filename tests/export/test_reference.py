"""Module outputs against plain reference computations written independently of the modules."""
import numpy as np
import torch
from torch import nn

from mage_export.archs import ARCHS, FAKE_CLASS_ID, MASK_ID
from mage_export.model import MageModel, random_init
from mage_export.transformer import Block, fused_attention
from mage_export.vqgan import Quantizer, ResBlock


def test_nearest_code_search_equals_brute_force():
    torch.manual_seed(0)
    q = Quantizer(1024, 32)
    z = torch.randn(2, 32, 16, 16)
    ids = q.nearest(z).numpy()
    codes = q.embedding.weight.detach().numpy().astype(np.float64)
    zz = z.permute(0, 2, 3, 1).reshape(2, 256, 32).numpy().astype(np.float64)
    for n in range(2):
        for p in range(256):
            d = ((codes - zz[n, p]) ** 2).sum(axis=1)
            assert ids[n, p] == int(np.argmin(d)) or np.isclose(d[ids[n, p]], d.min(), rtol=1e-6)


def test_resblock_applies_the_width_shortcut_to_its_output():
    torch.manual_seed(0)
    block = ResBlock(32, 64).eval()
    x = torch.randn(1, 32, 8, 8)
    with torch.no_grad():
        h = block.conv2(torch.nn.functional.silu(block.norm2(block.conv1(torch.nn.functional.silu(block.norm1(x))))))
        expected = h + torch.nn.functional.conv2d(h, block.nin_shortcut.weight)
        assert torch.allclose(block(x), expected, atol=1e-6)


def test_attention_block_equals_torch_multihead_attention():
    torch.manual_seed(0)
    block = Block(64, 4).eval()
    mha = nn.MultiheadAttention(64, 4, batch_first=True).eval()
    with torch.no_grad():
        mha.in_proj_weight.copy_(block.attn.qkv.weight)
        mha.in_proj_bias.copy_(block.attn.qkv.bias)
        mha.out_proj.weight.copy_(block.attn.proj.weight)
        mha.out_proj.bias.copy_(block.attn.proj.bias)
        x = torch.randn(2, 257, 64)
        y = block.norm1(x)
        h = x + mha(y, y, y, need_weights=False)[0]
        expected = h + block.mlp.fc2(nn.functional.gelu(block.mlp.fc1(block.norm2(h))))
        assert torch.allclose(block(x), expected, atol=1e-5)


def test_the_fused_attention_path_is_the_same_attention_and_only_on_while_exporting():
    """The path traced for com.microsoft.MultiHeadAttention computes what the official one does
    (its split of qkv into q, k, v must give each head its own columns), and the official path is
    back once the export is done, so golden outputs never come from the traced one."""
    torch.manual_seed(0)
    block = Block(64, 4).eval()
    x = torch.randn(2, 257, 64)
    with torch.no_grad():
        plain = block(x)
        with fused_attention(block):
            assert block.attn.fused
            fused = block(x)
        assert not block.attn.fused
        try:
            with fused_attention(block):
                raise RuntimeError("export failed")
        except RuntimeError:
            pass
        assert not block.attn.fused
    torch.testing.assert_close(fused, plain, rtol=1e-5, atol=1e-5)


def _model():
    model = MageModel(ARCHS["tiny"])
    random_init(model, 0)
    return model.eval()


def test_features_follow_model_md_section_3():
    model = _model()
    ids = torch.randint(0, 1024, (2, 257))
    ids[:, 0] = FAKE_CLASS_ID
    with torch.no_grad():
        hidden, encoded = model.encode(ids)
        _, linprobe, cls, mean = model.encode_features(ids)
    h = hidden.numpy().astype(np.float64)
    pooled = h[:, 1:].mean(axis=1)
    ref = (pooled - pooled.mean(-1, keepdims=True)) / np.sqrt(pooled.var(-1, keepdims=True) + 1e-6)
    np.testing.assert_allclose(linprobe.numpy(), ref, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(cls.numpy(), encoded[:, 0].numpy())
    np.testing.assert_allclose(mean.numpy(), encoded[:, 1:].numpy().mean(axis=1), rtol=1e-5, atol=1e-6)


def test_masked_positions_take_the_fake_class_vector():
    """Decoder: masked positions see decoder_embed(encoded[0]) — checked by building the decoder
    input position by position."""
    model = _model()
    ids = torch.randint(0, 1024, (1, 257))
    ids[0, 0] = FAKE_CLASS_ID
    ids[0, 5:40] = MASK_ID
    with torch.no_grad():
        _, encoded = model.encode(ids)
        emb = model.decoder_embed(encoded)
        rows = [emb[0, 0] if int(ids[0, p]) == MASK_ID else emb[0, p] for p in range(257)]
        x = torch.stack(rows).unsqueeze(0) + model.decoder_pos_embed_learned
        for blk in model.decoder_blocks:
            x = blk(x)
        h = model.mlm_layer.ln(nn.functional.gelu(model.mlm_layer.fc(model.decoder_norm(x))))
        expected = (h @ model.token_emb.word_embeddings.weight.t() + model.mlm_layer.bias)[:, 1:, :1024]
        assert torch.allclose(model.decode(encoded, ids), expected, atol=1e-4)
