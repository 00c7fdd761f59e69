"""Shared fixtures: tiny generated datasets in the two on-disk formats the project reads."""
from __future__ import annotations

import struct
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"

CIFAR_CLASSES = ("airplane", "automobile", "bird", "cat", "deer",
                 "dog", "frog", "horse", "ship", "truck")


def write_idx_images(path: Path, images: np.ndarray) -> None:
    n, h, w = images.shape
    path.write_bytes(struct.pack(">IIII", 0x00000803, n, h, w) + images.astype(np.uint8).tobytes())


def write_idx_labels(path: Path, labels: np.ndarray) -> None:
    path.write_bytes(struct.pack(">II", 0x00000801, len(labels)) + labels.astype(np.uint8).tobytes())


@pytest.fixture(scope="session")
def tiny_mnist(tmp_path_factory):
    """A torchvision-style root with MNIST/raw/ IDX files: 300 train and 60 test digits.

    Each class is a bright bar at a class-specific row, so a model can learn it in a few steps.
    """
    root = tmp_path_factory.mktemp("mnist_root")
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    arrays = {}
    for split, n in (("train", 300), ("t10k", 60)):
        labels = np.arange(n) % 10
        images = rng.integers(0, 40, size=(n, 28, 28)).astype(np.uint8)
        for i, label in enumerate(labels):
            images[i, 2 + 2 * label: 4 + 2 * label, 4:24] = 255
        write_idx_images(raw / f"{split}-images-idx3-ubyte", images)
        write_idx_labels(raw / f"{split}-labels-idx1-ubyte", labels)
        arrays[split] = (images, labels)
    return root, arrays


@pytest.fixture(scope="session")
def tiny_image_folder(tmp_path_factory):
    """An image-folder tree, train/<class>/*.png and test/<class>/*.png, 32x32 RGB."""
    root = tmp_path_factory.mktemp("cifar_root")
    rng = np.random.default_rng(1)
    arrays = {}
    for split, per_class in (("train", 12), ("test", 4)):
        pixels = []
        for label, name in enumerate(CIFAR_CLASSES):
            folder = root / split / name
            folder.mkdir(parents=True)
            for i in range(per_class):
                image = rng.integers(0, 256, size=(32, 32, 3)).astype(np.uint8)
                image[..., label % 3] = 25 * label
                Image.fromarray(image).save(folder / f"{i:04d}.png")
                pixels.append((label, image))
        arrays[split] = pixels
    return root, arrays


@pytest.fixture(scope="session")
def built():
    """app.py's page, built once in this process (``app.build``): its demo, models and tabs."""
    import app
    return app.build()


@pytest.fixture(scope="session")
def server(built):
    """app.py's page served in this process on a free port; its URL."""
    import socket

    import app
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    built.demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True,
                      quiet=True, **app.launch_options())
    yield f"http://127.0.0.1:{port}/"
    built.demo.close()


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium driven by Playwright, one per test session."""
    from browser import launch
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        browser = launch(pw)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def js_page(chromium):
    """A blank page served from the repository root (tests/jspage.py): import the page's
    modules with ``await import('/web/....js')`` inside ``page.evaluate``."""
    from jspage import serve_root
    server, url = serve_root()
    page = chromium.new_page()
    page.goto(f"{url}/tests/jspage.html")
    yield page
    page.close()
    server.shutdown()


@pytest.fixture(scope="session")
def app_url():
    """``python app.py`` started once for the browser tests, on a free port; its URL."""
    from browser import free_port, start_app, stop_app
    port = free_port()
    proc, _ = start_app(port)
    yield f"http://127.0.0.1:{port}/"
    stop_app(proc)


@pytest.fixture(scope="session")
def site_url(tmp_path_factory):
    """The static site (``python -m lenet site``) built once into a temporary folder and served
    by ``python -m http.server``, as its README says, on a free port; its URL."""
    import subprocess
    import sys
    import urllib.request

    from browser import free_port, stop_app

    from lenet.page.site import build_site
    site = build_site(tmp_path_factory.mktemp("site") / "out")
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "http.server", "-d", str(site.path), "-b", "127.0.0.1",
                             str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    for _ in range(200):   # until it answers (10 s at most)
        try:
            urllib.request.urlopen(url, timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)
    yield url
    stop_app(proc)


@pytest.fixture(scope="session", params=["gradio", "static"])
def shell_url(request):
    """The page in each of its two shells: the Gradio app (``app_url``) and the static site
    (``site_url``); tests that take it run once in each."""
    return request.getfixturevalue("app_url" if request.param == "gradio" else "site_url")


BROWSER_FIXTURES = {"chromium", "js_page"}
SLOW_FIXTURES = {"app_url", "server", "tiny_mnist", "tiny_image_folder", "shell_url"}
SLOW_MODULES = {"test_train", "test_committed_checkpoints", "test_device", "test_concurrency"}
# Tests that start Python anew (the app, the command line), as "file::name prefix": each imports
# torch, the app's gradio too, again: 2 to 10 s apiece on a 2-core machine.
PROCESS_TESTS = ("test_app.py::test_the_app_as_a_process",
                 "test_deploy.py::test_the_app_starts_from_the_upload_set",
                 "test_predict_cli.py::", "test_trace.py::test_cli_",
                 "test_gallery.py::test_gallery_command", "test_site.py::test_cli_")


def pytest_collection_modifyitems(items):
    """``browser`` for every test that drives Chromium, ``slow`` for those that start the app
    or the command line, train or read a real test set: ``python -m pytest -m "not browser
    and not slow"`` runs the rest in well under a minute."""
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        if used & BROWSER_FIXTURES:
            item.add_marker(pytest.mark.browser)
        if (used & SLOW_FIXTURES or item.module.__name__ in SLOW_MODULES
                or item.nodeid.rsplit("/", 1)[-1].startswith(PROCESS_TESTS)):
            item.add_marker(pytest.mark.slow)
