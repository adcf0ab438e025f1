"""tools/train/train.py end to end at toy size (the `tiny` arch, 32-pixel crops, a few steps):
the checkpoint has the official layout the exporter reads, and a stopped run resumes to the same
weights as an uninterrupted one. CI never trains for real."""
import csv

import numpy as np
import pytest
import torch
from PIL import Image

import train
from conftest import EXPORT_DIR, run_export
from mage_export.archs import ARCHS
from mage_export.model import MageModel, guess_arch, load_state

SMOKE = ["--arch", "tiny", "--vq-steps", "4", "--vq-batch", "2", "--vq-crop", "32", "--token-scenes", "4",
         "--mage-steps", "4", "--mage-batch", "4", "--seed", "3"]


def _run(out, *extra):
    assert train.main(["--out", str(out), *SMOKE, *extra]) == 0


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("train") / "run"
    _run(out)
    return out


def _losses(path):
    with path.open() as f:
        return [(r["step"], r["loss"]) for r in csv.DictReader(f)]


def test_a_run_writes_an_official_layout_checkpoint_logs_and_curves(smoke_run):
    ckpt = torch.load(str(smoke_run / "mage-tiny.pth"), map_location="cpu", weights_only=True)
    expected = MageModel(ARCHS["tiny"]).state_dict()
    assert set(ckpt["model"]) == set(expected)
    assert all(ckpt["model"][k].shape == v.shape for k, v in expected.items())
    assert guess_arch(ckpt["model"]) == "tiny"
    assert [s for s, _ in _losses(smoke_run / "vq_log.csv")] == ["4"]
    assert [s for s, _ in _losses(smoke_run / "mage_log.csv")] == ["4"]
    tokens = np.load(smoke_run / "tokens.npy")  # two views of each of the 4 scenes
    assert tokens.shape == (4, 2, 256) and not np.array_equal(tokens[:, 0], tokens[:, 1])
    with (smoke_run / "mage_log.csv").open() as f:
        row = next(csv.DictReader(f))
    assert float(row["contrastive"]) > 0 and 0 <= float(row["box"]) <= 1
    with Image.open(smoke_run / "loss.png") as im:
        assert im.format == "PNG" and im.size[0] > 100


def test_the_exporter_reads_the_checkpoint(smoke_run):
    import export
    state = export.read_checkpoint(smoke_run / "mage-tiny.pth", allow_pickle=False)
    model = MageModel(ARCHS["tiny"])
    load_state(model, state)


@pytest.mark.slow  # a second tiny export (tens of seconds); the reading and checking above is the fast part
def test_export_cli_turns_the_trained_checkpoint_into_a_package(smoke_run, tmp_path):
    r = run_export("--checkpoint", smoke_run / "mage-tiny.pth", "--arch", "tiny", "--out", tmp_path / "pkg")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "pkg" / "manifest.json").is_file()


def test_a_stopped_run_resumes_to_the_same_weights(smoke_run, tmp_path):
    out = tmp_path / "resumed"
    _run(out, "--stop-after", "3")                  # stops inside stage 1
    assert torch.load(str(out / "state.pt"))["step"] == 3 and not (out / "mage-tiny.pth").exists()
    _run(out, "--stop-after", "3")                  # finishes stage 1, tokenizes, stops inside stage 2
    state = torch.load(str(out / "state.pt"))
    assert (state["stage"], state["step"]) == ("mage", 2)
    _run(out)
    a = torch.load(str(smoke_run / "mage-tiny.pth"), weights_only=True)["model"]
    b = torch.load(str(out / "mage-tiny.pth"), weights_only=True)["model"]
    assert [k for k in a if not torch.equal(a[k], b[k])] == []
    assert _losses(out / "mage_log.csv") == _losses(smoke_run / "mage_log.csv")


def test_resuming_with_other_arguments_is_refused(smoke_run):
    with pytest.raises(SystemExit, match="--vq-steps 4 \\(now 5\\)"):
        train.main(["--out", str(smoke_run), *SMOKE[:2], "--vq-steps", "5", *SMOKE[4:]])


def test_mini_is_a_known_arch_with_the_real_geometry():
    a = ARCHS["mini"]
    assert a.dim % 64 == 0 and a.dim // a.heads == 64 and a.dec_dim // a.dec_heads == 64
    assert len(a.vq_ch_mult) == 5  # four 2x poolings: 256 px -> 16x16 tokens
    model = MageModel(a)
    assert guess_arch(model.state_dict()) == "mini"
    assert EXPORT_DIR.is_dir()


def test_mini_vqgan_group_norms_have_at_least_four_channels_per_group_as_official_ones_do():
    # One channel per group would erase each channel's mean: the network could not carry colours.
    def groups(arch):
        return {(m.num_channels, m.num_groups) for m in MageModel(ARCHS[arch]).vqgan.modules()
                if isinstance(m, torch.nn.GroupNorm)}
    assert min(c // g for c, g in groups("mini")) == 4
    official = groups("vit-base")  # vit-large has the same VQGAN
    assert {g for _, g in official} == {32} and min(c // g for c, g in official) == 4


def test_codes_unused_for_a_while_are_dead_once():
    from mage_train.tokenizer import DEAD_AFTER, CodebookUsage
    usage = CodebookUsage(8)
    for step in range(DEAD_AFTER):
        usage.update(torch.tensor([0, 1, 1, 2]), step)
    assert usage.dead(DEAD_AFTER - 1).tolist() == []
    assert usage.dead(DEAD_AFTER).tolist() == [3, 4, 5, 6, 7]
    assert usage.dead(DEAD_AFTER + 1).tolist() == []  # re-drawn codes get a fresh window
    assert 2.5 < usage.perplexity() < 8


def test_a_plain_autoencoder_warm_up_then_quantized_steps(tmp_path):
    out = tmp_path / "plain"
    _run(out, "--vq-plain-steps", "2")
    ckpt = torch.load(str(out / "mage-tiny.pth"), weights_only=True)["model"]
    codes = ckpt["vqgan.quantize.embedding.weight"]
    assert torch.isfinite(codes).all() and len(torch.unique(codes, dim=0)) > 1


def _vqgan(path):
    return {k: v for k, v in torch.load(str(path), weights_only=True)["model"].items() if k.startswith("vqgan.")}


def test_a_run_from_another_runs_tokenizer_and_tokens_trains_the_same_transformer(smoke_run, tmp_path):
    # Same data, seed and scenes: stage 1 is skipped, the tokens are reused, and stage 2 (a function
    # of the seed and the step) ends where the source run's own stage 2 ended.
    out = tmp_path / "adopted"
    _run(out, "--tokenizer-from", str(smoke_run))
    assert not (out / "vq_log.csv").exists()
    assert np.array_equal(np.load(out / "tokens.npy"), np.load(smoke_run / "tokens.npy"))
    a = torch.load(str(smoke_run / "mage-tiny.pth"), weights_only=True)["model"]
    b = torch.load(str(out / "mage-tiny.pth"), weights_only=True)["model"]
    assert [k for k in a if not torch.equal(a[k], b[k])] == []


def test_a_run_from_another_runs_tokenizer_with_more_scenes_tokenizes_them(smoke_run, tmp_path):
    out = tmp_path / "more"
    assert train.main(["--out", str(out), *SMOKE[:SMOKE.index("--token-scenes")], "--token-scenes", "6",
                       *SMOKE[SMOKE.index("--mage-steps"):], "--tokenizer-from", str(smoke_run)]) == 0
    tokens, theirs = np.load(out / "tokens.npy"), np.load(smoke_run / "tokens.npy")
    assert tokens.shape == (6, 2, 256)
    assert np.array_equal(tokens[:4], theirs)  # the same tokenizer on the same first four scenes
    vq_a, vq_b = _vqgan(smoke_run / "mage-tiny.pth"), _vqgan(out / "mage-tiny.pth")
    assert [k for k in vq_a if not torch.equal(vq_a[k], vq_b[k])] == []


def test_a_tokenizer_is_taken_only_from_a_finished_stage_1_of_the_same_geometry(smoke_run, tmp_path):
    with pytest.raises(SystemExit, match="another VQGAN than mini-half"):
        train.main(["--out", str(tmp_path / "wide"), "--arch", "mini-half", "--vq-crop", "32",
                    "--tokenizer-from", str(smoke_run)])
    assert not (tmp_path / "wide" / "args.json").exists()  # a refused start leaves nothing to resume
    partial = tmp_path / "partial"
    _run(partial, "--stop-after", "2")
    with pytest.raises(SystemExit, match="stage 1 has not finished"):
        _run(tmp_path / "early", "--tokenizer-from", str(partial))
    with pytest.raises(SystemExit, match="not a readable run folder"):
        _run(tmp_path / "nowhere", "--tokenizer-from", str(tmp_path / "missing"))


def test_mini_half_wide_shares_mini_halfs_tokenizer():
    assert train.vq_geometry(ARCHS["mini-half-wide"]) == train.vq_geometry(ARCHS["mini-half"])
    wide = MageModel(ARCHS["mini-half-wide"])
    assert guess_arch(wide.state_dict()) == "mini-half-wide"
    assert sum(p.numel() for n, p in wide.named_parameters() if not n.startswith("vqgan.")) > 6_000_000
