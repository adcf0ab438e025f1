"""tools/train's quality measures on cases whose answers are known."""
import numpy as np

from mage_export.archs import ARCHS
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
