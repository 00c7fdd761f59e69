"""The data module on tiny generated IDX files and a tiny generated image-folder tree."""
import numpy as np
import pytest
import torch

from lenet.data import (DataError, load_split, normalize, random_crop_flip, validation_split)
from conftest import CIFAR_CLASSES


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
