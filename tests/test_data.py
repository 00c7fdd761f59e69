"""The data module on tiny generated IDX files and a tiny generated image-folder tree, and
the batch augmentation against torch's and NumPy's own resampling and filtering."""
import numpy as np
import pytest
import torch
from conftest import CIFAR_CLASSES
from torch.nn import functional as F

from lenet.net.models import normalize
from lenet.training.augment import (
    MAX_SIGMA,
    blur_matrices,
    random_crop_flip,
    random_resample,
    resample_round_trip,
    round_trip_matrix,
)
from lenet.training.data import DataError, load_split, validation_split


def test_mnist_idx_files_load_as_uint8_tensors(tiny_mnist):
    root, arrays = tiny_mnist
    x, y, classes = load_split("mnist", root, train=True)
    images, labels = arrays["train"]
    assert x.dtype == torch.uint8 and x.shape == (300, 1, 28, 28)
    np.testing.assert_array_equal(x[:, 0].numpy(), images)
    np.testing.assert_array_equal(y.numpy(), labels)
    x_test, y_test, _ = load_split("mnist", root, train=False)
    np.testing.assert_array_equal(x_test[:, 0].numpy(), arrays["t10k"][0])
    assert classes == tuple("0123456789")


def test_image_folder_loads_pixels_and_sorted_classes(tiny_image_folder):
    root, arrays = tiny_image_folder
    x, y, classes = load_split("cifar10", root, train=True)
    assert classes == CIFAR_CLASSES
    assert x.shape == (120, 3, 32, 32) and x.dtype == torch.uint8
    for i, (label, image) in enumerate(arrays["train"]):  # PNG is lossless: exact pixels
        assert y[i] == label
        np.testing.assert_array_equal(x[i].permute(1, 2, 0).numpy(), image)


def test_image_folder_is_also_found_under_cifar10(tiny_image_folder, tmp_path):
    root, _ = tiny_image_folder
    (tmp_path / "cifar10").symlink_to(root, target_is_directory=True)
    x, _, _ = load_split("cifar10", tmp_path, train=False)
    assert len(x) == 40


def test_image_folder_resizes_other_sizes(tmp_path):
    from PIL import Image
    for split in ("train", "test"):
        (tmp_path / split / "a").mkdir(parents=True)
        Image.new("RGB", (64, 48), (200, 10, 10)).save(tmp_path / split / "a" / "x.png")
    x, _, classes = load_split("cifar10", tmp_path, train=True)
    assert x.shape == (1, 3, 32, 32) and classes == ("a",)
    assert x[0, 0].float().mean() == pytest.approx(200, abs=2)


def test_class_mismatch_between_splits_is_an_error(tiny_image_folder):
    root, _ = tiny_image_folder
    with pytest.raises(DataError, match="expected"):
        load_split("cifar10", root, train=False, classes=("cat", "dog"))


def test_missing_mnist_offline_is_one_clear_error(tmp_path, monkeypatch):
    from torchvision.datasets import MNIST
    monkeypatch.setattr(MNIST, "mirrors", ["http://127.0.0.1:9/"])  # refused at once
    with pytest.raises(DataError, match="put the four IDX files there"):
        load_split("mnist", tmp_path, train=True)


def test_validation_split_is_the_course_permutation():
    train_idx, val_idx = validation_split(60000)
    perm = np.random.RandomState(0).permutation(60000)
    assert len(val_idx) == 1024 and len(train_idx) == 60000 - 1024
    np.testing.assert_array_equal(val_idx.numpy(), perm[:1024])
    assert set(train_idx.tolist()).isdisjoint(val_idx.tolist())
    torch.testing.assert_close(validation_split(60000)[1], val_idx)


def test_normalize_matches_mean_and_std():
    x = torch.tensor([0, 51, 255], dtype=torch.uint8).view(1, 3, 1, 1)
    out = normalize(x, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)).flatten()
    torch.testing.assert_close(out, torch.tensor([-1.0, 51 / 255 * 2 - 1, 1.0]))


def test_random_crop_is_a_window_of_the_padded_image():
    gen = torch.Generator().manual_seed(0)
    x = torch.randint(1, 256, (16, 3, 8, 8), dtype=torch.uint8)
    out = random_crop_flip(x, pad=2, flip=False, generator=gen)
    padded = torch.nn.functional.pad(x, (2, 2, 2, 2))
    offsets = set()
    for i in range(16):
        hits = [(dy, dx) for dy in range(5) for dx in range(5)
                if torch.equal(out[i], padded[i, :, dy:dy + 8, dx:dx + 8])]
        assert hits, f"sample {i} is not a crop"
        offsets.add(hits[0])
    assert len(offsets) > 1  # per-sample offsets, not one for the whole batch


def test_flip_mirrors_some_samples_and_keeps_others():
    gen = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (64, 1, 4, 4), dtype=torch.uint8)
    out = random_crop_flip(x, pad=0, flip=True, generator=gen)
    same = [torch.equal(out[i], x[i]) for i in range(64)]
    mirrored = [torch.equal(out[i], x[i].flip(2)) for i in range(64)]
    assert all(s or m for s, m in zip(same, mirrored))
    assert 10 < sum(mirrored) < 54


def test_augmentation_is_deterministic_for_a_seed():
    x = torch.randint(0, 256, (8, 3, 8, 8), dtype=torch.uint8)
    a = random_crop_flip(x, 2, True, torch.Generator().manual_seed(3))
    b = random_crop_flip(x, 2, True, torch.Generator().manual_seed(3))
    assert torch.equal(a, b)


@pytest.mark.parametrize("scale, up, down", [(1.5, "bilinear", "bicubic"),
                                             (2.7, "bicubic", "bilinear"),
                                             (4.0, "bicubic", "bicubic")])
def test_round_trip_matrix_is_torchs_two_dimensional_resampling(scale, up, down):
    x = torch.rand(4, 3, 32, 32) * 255
    m = round_trip_matrix(32, scale, up, down)
    torch.testing.assert_close(m @ x @ m.T, resample_round_trip(x, scale, up, down),
                               atol=1e-3, rtol=0)
    # Against an explicit enlargement to the full size and antialiased reduction.
    size = round(32 * scale)
    big = F.interpolate(x, size=(size, size), mode=up, align_corners=False)
    torch.testing.assert_close(m @ x @ m.T, F.interpolate(big, size=(32, 32), mode=down,
                                                          antialias=True), atol=1e-3, rtol=0)


def test_blur_matrices_are_a_gaussian_filter_with_repeated_edges():
    sigma = torch.tensor([0.0, 0.35, MAX_SIGMA])
    g = blur_matrices(12, sigma)
    torch.testing.assert_close(g[0], torch.eye(12))
    row = np.random.default_rng(0).random(12)
    for k, s in enumerate(sigma.tolist()[1:], start=1):
        radius = round(2.5 * MAX_SIGMA)
        taps = np.exp(-np.arange(-radius, radius + 1) ** 2 / (2 * s * s))
        expected = np.convolve(np.pad(row, radius, mode="edge"), taps / taps.sum(), "valid")
        np.testing.assert_allclose(g[k].numpy() @ row, expected, rtol=1e-5)


def test_random_resample_softens_the_chosen_images_only():
    gen = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (200, 3, 24, 24), dtype=torch.uint8)
    x[:, :, :, 12:] = 77  # half of each image flat: resampling and blurring keep flat areas
    out = random_resample(x, 0.5, gen)
    assert out.dtype == torch.uint8 and out.shape == x.shape
    changed = (out != x).flatten(1).any(1)
    assert 60 < int(changed.sum()) < 140               # about half the batch
    assert (out[:, :, :, 19:] == 77).all()             # flat stays flat (7 pixels from noise)
    noise, soft = x[changed, :, :, :6].float(), out[changed, :, :, :6].float()
    assert soft.std() < noise.std()                    # softened: less pixel-to-pixel variation
    assert torch.equal(random_resample(x, 0.0, gen), x)


def test_random_resample_is_deterministic_for_a_seed():
    x = torch.randint(0, 256, (32, 3, 32, 32), dtype=torch.uint8)
    a = random_resample(x, 0.5, torch.Generator().manual_seed(5))
    b = random_resample(x, 0.5, torch.Generator().manual_seed(5))
    assert torch.equal(a, b) and not torch.equal(a, x)
