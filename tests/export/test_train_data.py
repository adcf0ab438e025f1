"""tools/train's procedural images and masking: deterministic, labelled by what is drawn, disjoint
seed ranges, and the paper's mask-ratio distribution."""
import numpy as np
import pytest
import torch

from mage_train import data, shapes
from mage_train.masking import (RATIO_MAX, RATIO_MIN, TRUNCATED_MEAN, make_masks, sample_mask_ratio)


def test_images_are_deterministic_by_seed_and_independent_of_the_batch():
    a, la = shapes.images([5, 6, 7])
    b, lb = shapes.images([7])
    assert a.dtype == np.uint8 and a.shape == (3, 256, 256, 3)
    assert np.array_equal(a[2], b[0]) and la[2] == lb[0]
    c, _ = shapes.images([5, 6, 7])
    assert np.array_equal(a, c)
    assert not np.array_equal(a[0], a[1])


def test_training_and_heldout_seeds_are_disjoint():
    assert shapes.TRAIN_SEEDS.stop <= shapes.HELDOUT_SEEDS.start
    assert max(shapes.train_seeds(0, 10)) < min(shapes.heldout_seeds(0, 10))
    # the stage-2 token images and the stage-1 crops draw from training seeds only
    seeds = data.token_image_seeds(0, 100)
    assert seeds[0] in shapes.TRAIN_SEEDS and seeds[-1] in shapes.TRAIN_SEEDS
    assert data.token_image_seeds(0, 1)[0] != data.token_image_seeds(1, 1)[0]


def test_every_class_and_background_appears_in_a_small_sample():
    samples = [shapes.render(s) for s in shapes.heldout_seeds(0, 48)]
    assert {s.label for s in samples} == set(range(len(shapes.CLASSES)))
    assert {s.background for s in samples} == set(shapes.BACKGROUNDS)


def _iou(a, b):
    return (a & b).sum() / max((a | b).sum(), 1)


@pytest.mark.parametrize("seed", range(12))
def test_label_is_the_shape_drawn(seed):
    """On a clean image (flat background, no distractors or lines) the pixels that differ from the
    background match the labelled class's outline better than any other class's at the same
    place, size and angle."""
    s = shapes.render(seed, distractors=False, lines=False, background="flat")
    bg = s.image[0, 0].astype(int)
    drawn = np.abs(s.image.astype(int) - bg).sum(-1) > 60
    scores = []
    for k in range(len(shapes.CLASSES)):
        other = shapes.Shape(k, s.main.cx, s.main.cy, s.main.radius, s.main.angle, s.main.colour)
        scores.append(_iou(drawn, shapes.signed_distance(other) < 0))
    assert int(np.argmax(scores)) == s.label, (shapes.CLASSES[s.label], scores)
    assert scores[s.label] > 0.9


def test_main_object_is_the_largest_and_in_front():
    assert shapes.DISTRACTOR_RADIUS[1] < shapes.MAIN_RADIUS[0]
    for seed in range(8):
        s = shapes.render(seed)
        inside = shapes.signed_distance(s.main) < -2  # away from the anti-aliased edge
        if s.main.radius and inside.any():
            colours = s.image[inside].astype(float)
            # nothing is drawn over the main object: its pixels keep (a shade of) its colour
            assert np.abs(colours.mean(0) - np.array(s.main.colour)).max() < 40


def test_mask_ratio_follows_the_truncated_gaussian():
    rng = np.random.default_rng(1234)
    r = np.array([sample_mask_ratio(rng) for _ in range(20000)])
    assert r.min() >= RATIO_MIN and r.max() <= RATIO_MAX
    # loc 0.55, scale 0.25, cut to [0.5, 1]: the draws' mean is ~0.694, not 0.55
    assert abs(TRUNCATED_MEAN - 0.694) < 0.001
    assert abs(r.mean() - TRUNCATED_MEAN) < 0.005
    assert (r < 0.6).mean() > (r > 0.9).mean()  # density falls from the bottom of the range


def test_masks_drop_half_and_mask_the_ratio_exactly():
    g = torch.Generator().manual_seed(0)
    drop, masked = make_masks(4, 256, 0.73, g)
    assert drop.sum(1).tolist() == [128] * 4
    assert masked.sum(1).tolist() == [187] * 4  # ceil(256 * 0.73)
    assert bool((masked | ~drop).all())  # every dropped position is masked
    assert not torch.equal(masked[0], masked[1])
