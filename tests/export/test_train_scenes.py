"""The `simple` distribution (scenes with views) and stage 2's additions: box masks, the two-view
batches and the contrastive term."""
import numpy as np
import torch

from mage_train import data, datasets, scenes, shapes
from mage_train.contrastive import info_nce
from mage_train.masking import BOX_SIDE, make_box_masks


def test_scenes_and_views_are_deterministic_by_seed_and_keep_the_label():
    a, la = datasets.images("simple", [3, 4, 5])
    b, lb = datasets.images("simple", [5])
    assert a.shape == (3, 256, 256, 3) and a.dtype == np.uint8
    assert np.array_equal(a[2], b[0]) and la[2] == lb[0]
    v1, l1 = datasets.images("simple", [3, 4, 5], view=1)
    v1b, _ = datasets.images("simple", [3, 4, 5], view=1)
    v2, l2 = datasets.images("simple", [3, 4, 5], view=2)
    assert np.array_equal(v1, v1b)
    assert list(la) == list(l1) == list(l2)
    for i in range(3):
        assert not np.array_equal(a[i], v1[i]) and not np.array_equal(v1[i], v2[i])


def test_the_simple_distribution_has_wide_stripes_at_most_one_distractor_and_every_class():
    drawn = [scenes.scene(s) for s in shapes.heldout_seeds(0, 60)]
    assert {s.label for s in drawn} == set(range(len(shapes.CLASSES)))
    assert {s.background.kind for s in drawn} == set(scenes.BACKGROUNDS)
    assert "checks" not in scenes.BACKGROUNDS
    assert all(s.background.period >= 64 for s in drawn if s.background.kind == "stripes")
    assert any(s.distractor is None for s in drawn) and any(s.distractor is not None for s in drawn)


def test_the_main_object_keeps_its_paint_in_view_zero():
    for seed in range(6):
        s = scenes.scene(seed)
        img, _ = scenes.render(seed)
        inside = shapes.signed_distance(s.main) < -2
        if np.isnan(s.shaded) and inside.any():
            colour = img[inside].astype(float).mean(0)
            # the drawn colour is the scene's paint or, when that did not contrast, another palette colour
            assert min(np.abs(colour - p).max() for p in shapes.PALETTE) < 16


def test_unknown_distributions_and_busy_views_are_refused():
    for call in (lambda: datasets.images("nope", [1]), lambda: datasets.images("busy", [1], view=1)):
        try:
            call()
        except ValueError:
            continue
        raise AssertionError("no error")


def test_box_masks_mask_part_of_one_rectangle_and_drop_nothing():
    g = torch.Generator().manual_seed(0)
    drop, masked = make_box_masks(64, 16, g)
    assert not drop.any() and masked.shape == (64, 256)
    for row in masked.view(64, 16, 16):
        ys, xs = torch.nonzero(row, as_tuple=True)
        assert len(ys) >= 1
        assert int(ys.max() - ys.min()) < BOX_SIDE[1] and int(xs.max() - xs.min()) < BOX_SIDE[1]


def test_a_stage_two_batch_holds_two_views_of_the_same_scenes():
    tokens = np.arange(10 * 2 * 256, dtype=np.int16).reshape(10, 2, 256)
    rows, _, _ = data.token_batch(0, 7, tokens, 6)
    assert rows.shape == (6, 256)
    first, second = rows[:3].numpy(), rows[3:].numpy()
    # row i of the second half is the other view of row i's scene
    assert np.array_equal(second - first, np.full_like(first, 256))


def test_info_nce_prefers_matching_views():
    torch.manual_seed(0)
    a = torch.randn(8, 16)
    matched = info_nce(a, a + 0.01 * torch.randn(8, 16), 0.2)
    shuffled = info_nce(a, a[torch.randperm(8)], 0.2)
    assert matched < 0.5 and shuffled > 2 * matched + 1
