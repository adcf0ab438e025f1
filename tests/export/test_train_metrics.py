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
