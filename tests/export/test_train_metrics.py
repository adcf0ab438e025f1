"""tools/train's quality measures on cases whose answers are known."""
import numpy as np
import torch

from mage_export.archs import ARCHS, MASK_ID
from mage_export.model import MageModel, random_init
from mage_train import metrics, shapes


def test_knn_accuracy_separates_clusters_and_not_noise():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(4), 25)
    centres = rng.normal(size=(4, 16)) * 5
    clustered = centres[labels] + rng.normal(size=(100, 16))
    assert metrics.knn_accuracy(clustered, labels) == 1.0
    assert metrics.knn_accuracy(rng.normal(size=(100, 16)), labels) < 0.5


def test_psnr_of_known_errors():
    a = np.zeros((1, 4, 4, 3), np.uint8)
    assert abs(metrics.psnr(a, a + 1)[0] - 10 * np.log10(255 ** 2)) < 1e-9
    assert metrics.psnr(a, a)[0] > 90


def test_noise_images_fall_outside_the_training_range_and_training_images_inside():
    train, _ = shapes.images(shapes.train_seeds(0, 60))
    noise = np.random.default_rng(0).integers(0, 256, (4, 256, 256, 3), dtype=np.uint8)
    assert metrics.within_training_range(noise, train)["gen_tv_inside"] == 0.0
    held, _ = shapes.images(shapes.heldout_seeds(0, 20))
    assert metrics.within_training_range(held, train)["gen_all_inside"] >= 0.7


def test_inpainting_measure_runs_on_the_random_tiny_model():
    model = MageModel(ARCHS["tiny"])
    random_init(model, 0)
    seeds = shapes.heldout_seeds(0, 2)
    imgs, _ = shapes.images(seeds)
    r = metrics.inpaint_errors(model.eval(), imgs, seeds, steps=2)
    assert set(r) == {"inpaint_mae", "border_fill_mae", "inpaint_wins"}
    assert 0 < r["border_fill_mae"] < 255 and 0 < r["inpaint_mae"] < 255


def test_box_masking_marks_every_token_whose_patch_touches_the_box():
    tokens = torch.zeros((1, 256), dtype=torch.long)
    masked = metrics.mask_boxes(tokens, [(10, 40)])  # rows 10..105 -> token rows 0..6; columns 40..135 -> 2..8
    grid = (masked[0] == MASK_ID).view(16, 16)
    expected = torch.zeros((16, 16), dtype=torch.bool)
    expected[0:7, 2:9] = True
    assert torch.equal(grid, expected) and int(tokens.sum()) == 0  # the input is left alone


def test_token_ring_fill_copies_the_most_frequent_code_around_the_masked_rectangle():
    grid = torch.full((16, 16), 5, dtype=torch.long)
    grid[3:6, 3:6] = MASK_ID
    grid[2, 2:7] = torch.tensor([7, 7, 7, 9, 9])  # the ring (rows 2..6, columns 2..6) holds 7 x3, 9 x2, 5 x11
    grid[6, 2:5] = 7  # now 7 x6, 9 x2, 5 x8
    grid[0, 0] = 9  # outside the ring: not counted
    filled = metrics.token_ring_fill(grid.view(1, 256))[0].view(16, 16)
    assert torch.equal(filled[3:6, 3:6], torch.full((3, 3), 5))
    grid[4, 2] = 7
    grid[5, 2] = 7
    grid[3, 6] = 7  # 7 x9, 5 x5
    assert torch.equal(metrics.token_ring_fill(grid.view(1, 256))[0].view(16, 16)[3:6, 3:6], torch.full((3, 3), 7))


def test_border_fill_error_is_zero_on_a_flat_image_and_the_step_on_a_split_one():
    flat = np.full((1, 256, 256, 3), 90, np.uint8)
    assert metrics.border_fill_errors(flat, [(50, 60)])[0] == 0
    split = flat.copy()
    split[0, :, 108:] = 190  # the box (columns 60..155) is half 90, half 190; the ring's mean is 140
    assert abs(metrics.border_fill_errors(split, [(50, 60)])[0] - 50.0) < 0.6


def test_frechet_distance_is_zero_for_one_set_and_the_mean_shift_squared_for_a_shifted_one():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(200, 8))
    assert abs(metrics.frechet_distance(a, a)) < 1e-6
    assert abs(metrics.frechet_distance(a, a + 3.0) - 8 * 9.0) < 1e-6


def test_patch_means_reconstruct_patch_constant_images_exactly():
    rng = np.random.default_rng(1)
    coarse = rng.integers(0, 256, (2, 16, 16, 3), dtype=np.uint8)
    flat = coarse.repeat(16, axis=1).repeat(16, axis=2)
    assert metrics.patch_mean_psnr(np.full((1, 256, 256, 3), 77, np.uint8)) > 90
    assert metrics.patch_mean_psnr(flat) < 40  # bicubic upsampling blurs the patch edges


def test_the_fft_descriptor_ignores_where_the_shape_is():
    import knn_baselines
    img = np.zeros((2, 256, 256, 3), np.uint8)
    img[0, 32:96, 32:96] = 200
    img[1, 128:192, 64:128] = 200   # the same square moved by whole patches
    d = knn_baselines.fft_descriptor(img)
    assert np.allclose(d[0], d[1])
