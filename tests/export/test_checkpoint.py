"""Loading official checkpoints: key checking and bad input, through the command line."""
import zipfile

import pytest
import torch

from conftest import FIXTURES, run_export
from mage_export.archs import ARCHS
from mage_export.model import CheckpointMismatch, MageModel, load_state, random_init, required_tensors

UNUSED_AT_INFERENCE = ("patch_embed.", "cls_token", "pos_embed", "mask_token", "decoder_pos_embed",
                       "decoder_pred.", "token_emb.position_ids")


def tiny_state():
    model = MageModel(ARCHS["tiny"])
    random_init(model, 3)
    state = dict(model.state_dict())
    state["decoder_pred.weight"] = torch.zeros(4, 4)  # a training-only tensor: must be ignored
    return model, state


def save(path, obj):
    torch.save(obj, str(path))
    return path


def test_vit_base_needs_exactly_the_official_keys_and_shapes():
    """Our vit-base module asks for a subset of the official ViT-B checkpoint's tensors, with the
    same shapes, and everything it leaves out is documented as unused at inference."""
    official = {}
    for line in (FIXTURES / "checkpoint-keys-vit-base.tsv").read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        key, shape, _ = line.split("\t")
        official[key] = tuple(int(x) for x in shape.strip("[]").split(",") if x.strip())
    with torch.device("meta") if hasattr(torch, "device") and hasattr(torch.device, "__enter__") else _nullcontext():
        needed = required_tensors(MageModel(ARCHS["vit-base"]))
    missing = [k for k in needed if k not in official]
    assert missing == []
    assert [k for k in needed if official[k] != needed[k]] == []
    unused = [k for k in official if k not in needed]
    assert unused and all(k.startswith(UNUSED_AT_INFERENCE) for k in unused), unused


class _nullcontext:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


def test_load_state_ignores_training_only_tensors():
    model, state = tiny_state()
    fresh = MageModel(ARCHS["tiny"])
    load_state(fresh, state)
    for k, v in model.state_dict().items():
        assert torch.equal(fresh.state_dict()[k], v), k


def test_missing_and_misshaped_tensors_are_named():
    _, state = tiny_state()
    del state["blocks.1.attn.qkv.weight"]
    del state["vqgan.quantize.embedding.weight"]
    state["decoder_norm.bias"] = torch.zeros(65)
    with pytest.raises(CheckpointMismatch) as e:
        load_state(MageModel(ARCHS["tiny"]), state)
    text = str(e.value)
    assert "2 missing and 1 mis-shaped" in text
    assert "missing: blocks.1.attn.qkv.weight" in text and "missing: vqgan.quantize.embedding.weight" in text
    assert "mis-shaped: decoder_norm.bias is [65], expected [64]" in text


def test_cli_names_each_bad_key_and_exits_2(tmp_path):
    _, state = tiny_state()
    del state["mlm_layer.bias"]
    ckpt = save(tmp_path / "bad.pth", {"model": state})
    r = run_export("--checkpoint", ckpt, "--arch", "tiny", "--out", tmp_path / "out")
    assert r.returncode == 2
    assert "missing: mlm_layer.bias" in r.stderr
    assert not (tmp_path / "out").exists()


def test_checkpoint_of_another_architecture_says_which(tmp_path):
    state = {"token_emb.word_embeddings.weight": torch.zeros(2025, 768)}
    state.update({f"blocks.{i}.norm1.weight": torch.zeros(768) for i in range(12)})
    ckpt = save(tmp_path / "vitb.pth", {"model": state})
    r = run_export("--checkpoint", ckpt, "--arch", "tiny", "--out", tmp_path / "out")
    assert r.returncode == 2
    first = [l for l in r.stderr.splitlines() if "error" in l][0]
    assert "does not match arch 'tiny'" in first and "looks like vit-base" in first


def test_a_good_tiny_checkpoint_exports(tmp_path):
    _, state = tiny_state()
    ckpt = save(tmp_path / "good.pth", {"model": state, "epoch": 3})
    r = run_export("--checkpoint", ckpt, "--arch", "tiny", "--out", tmp_path / "out")
    assert r.returncode == 0, r.stderr
    import json
    source = json.loads((tmp_path / "out" / "manifest.json").read_text())["source"]
    assert source["kind"] == "checkpoint" and source["name"] == "good.pth" and len(source["sha256"]) == 64


@pytest.mark.parametrize("kind", ["text", "empty", "truncated", "no-model", "missing", "pickle"])
def test_bad_checkpoint_files_fail_with_one_clear_line(tmp_path, kind):
    path = tmp_path / "ckpt.pth"
    if kind == "text":
        path.write_text("this is not a checkpoint\n")
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "truncated":
        _, state = tiny_state()
        save(path, {"model": state})
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif kind == "no-model":
        save(path, {"state_dict": {}})
    elif kind == "pickle":
        import argparse
        save(path, {"model": {}, "args": argparse.Namespace(x=1)})
    r = run_export("--checkpoint", path, "--arch", "tiny", "--out", tmp_path / "out")
    assert r.returncode == 2, r.stderr
    lines = [l for l in r.stderr.strip().splitlines() if l.startswith("export: error")]
    assert len(lines) == 1 and "Traceback" not in r.stderr
    expected = {"text": "not", "empty": "empty", "truncated": "truncated", "no-model": "no 'model'",
                "missing": "does not exist", "pickle": "--allow-pickle"}[kind]
    assert expected in lines[0]
    assert not (tmp_path / "out").exists()
