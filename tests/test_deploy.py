"""What goes to the Hugging Face Space: binaries under LFS rules, the upload set small enough
and complete enough to start the app on its own, and nothing the app does not need."""
from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

import deploy
from lenet.net.files import is_side_file

ROOT = Path(__file__).resolve().parent.parent
# Binary whatever their first bytes: weights, images, archives, pickles.
BINARY_SUFFIXES = {".safetensors", ".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".ico",
                   ".pt", ".pth", ".bin", ".ckpt", ".npy", ".npz", ".pkl", ".zip", ".gz", ".pdf"}
LFS_POINTER = b"version https://git-lfs.github.com/spec/v1"
MAX_FILE = 10 * 1024 * 1024   # the Hub refuses larger files pushed without LFS
MAX_TOTAL = 20 * 1024 * 1024  # this project's budget for the whole Space
ALWAYS_NEEDED = ("lenet5", "convnet")  # app.py exits without these two checkpoints


def tracked_files() -> list[str]:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
    names = [n for n in out.stdout.decode().split("\0") if n]
    return [n for n in names if (ROOT / n).is_file()]  # not those deleted and not yet committed


def is_binary(name: str) -> bool:
    with open(ROOT / name, "rb") as f:
        return b"\0" in f.read(8192) or Path(name).suffix.lower() in BINARY_SUFFIXES


def lfs_filter(names: list[str]) -> dict[str, str]:
    """name -> the value of its `filter` attribute, as git itself resolves .gitattributes."""
    out = subprocess.run(["git", "check-attr", "-z", "filter", "--", *names], cwd=ROOT,
                         capture_output=True, check=True).stdout.decode().split("\0")
    return {path: value for path, _, value in zip(out[0::3], out[1::3], out[2::3])}


def test_every_binary_file_has_an_lfs_rule_and_no_text_file_has_one():
    files = tracked_files()
    binary = [n for n in files if is_binary(n)]
    assert any(n.endswith(".safetensors") for n in binary) and any(n.endswith(".png") for n in binary)
    filters = lfs_filter(files)
    assert [n for n in binary if filters[n] != "lfs"] == []
    assert [n for n in files if n not in binary and filters[n] != "unspecified"] == []


def test_binary_files_are_stored_as_themselves_not_as_lfs_pointers():
    # This repository is not converted to LFS and CI clones it without git-lfs: a checkpoint
    # committed by someone with git-lfs installed would arrive here as a 130-byte pointer.
    pointers = [n for n in tracked_files() if is_binary(n)
                and (ROOT / n).read_bytes()[:len(LFS_POINTER)] == LFS_POINTER]
    assert pointers == [], "commit these files' contents, not LFS pointers"


def test_upload_set_fits_the_space():
    files = deploy.upload_set(tracked_files())
    sizes = {n: (ROOT / n).stat().st_size for n in files}
    total = sum(sizes.values())
    print(f"\nupload set: {len(files)} files, {total / 1e6:.2f} MB")
    assert {n: s for n, s in sizes.items() if s > MAX_FILE} == {}
    assert total < MAX_TOTAL


def local_imports(start: str) -> set[str]:
    """The repository's .py files that `start` imports, directly or through one another."""
    seen, todo = set(), [start]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        package = Path(name).parent.as_posix()
        for node in ast.walk(ast.parse((ROOT / name).read_text())):
            if isinstance(node, ast.Import):
                modules = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level:   # from .x import y
                modules = [f"{package}.{node.module or ''}".strip(".")]
                modules += [f"{modules[0]}.{a.name}" for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                modules = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            else:
                continue
            for module in modules:
                parts = module.split(".")
                for i in range(1, len(parts) + 1):   # a.b.c needs a/__init__.py and a/b/...
                    base = "/".join(parts[:i])
                    for candidate in (f"{base}.py", f"{base}/__init__.py"):
                        if (ROOT / candidate).is_file():
                            todo.append(candidate)
    return seen


def test_upload_set_holds_what_the_app_needs_and_nothing_for_development():
    tracked = tracked_files()
    files = set(deploy.upload_set(tracked))
    needed = local_imports("app.py")
    assert {"ui/draw.py", "lenet/inside/inference.py", "lenet/net/models.py"} <= needed  # the walk works
    assert sorted(needed - files) == []
    assert {"README.md", "requirements.txt", ".gitattributes"} <= files
    card = (ROOT / "README.md").read_text().split("---\n")[1]
    assert "sdk: gradio" in card.splitlines() and "app_file: app.py" in card.splitlines()
    assert sorted({n for n in tracked if n.startswith("web/")} - files) == []
    checkpoints = {n for n in tracked if n.startswith("checkpoints/") and n.endswith(".safetensors")}
    for name in ALWAYS_NEEDED:
        assert {f"checkpoints/{name}.safetensors", f"checkpoints/{name}.gallery.safetensors"} <= checkpoints
    assert sorted(checkpoints - files) == []
    left_here = ("tests/", "benchmarks/", "docs/", ".ci/", "train.py", "pyproject.toml",
                 "checkpoints/train_log")
    # Pictures stay here (docs, training curves), except the page's own (web/blocks_sample.png).
    assert sorted(n for n in files if n.startswith(left_here)
                  or (n.endswith(".png") and not n.startswith("web/"))) == []


def test_the_readme_shows_the_command_deploy_py_prints():
    readme = (ROOT / "README.md").read_text()
    assert deploy.upload_command("YOUR_NAME/how-a-cnn-sees") in readme


def test_the_app_starts_from_the_upload_set_alone(tmp_path):
    copied = deploy.upload_set(tracked_files())
    deploy.copy_upload_set(tmp_path, copied)
    # `lenet` is installed editable from this repository; its import hook would find any
    # module missing from the copy in the repository, so the child removes it first and
    # then reports where every module of the app came from.
    probe = (
        "import sys\n"
        "sys.meta_path[:] = [f for f in sys.meta_path\n"
        "                    if not getattr(f, '__module__', '').startswith('__editable__')]\n"
        "import app\n"
        "print('MODELS', sorted(app.build().models))\n"
        "for name, m in sorted(sys.modules.items()):\n"
        "    if name.split('.')[0] in ('app', 'lenet', 'ui'):\n"
        "        print('FILE', m.__file__)\n"
    )
    env = {k: v for k, v in os.environ.items()
           if k != "PYTHONPATH" and not (k.startswith("LENET_") and k.endswith("_CHECKPOINT"))}
    done = subprocess.run([sys.executable, "-s", "-c", probe], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    shipped = sorted(Path(n).name.removesuffix(".safetensors") for n in copied
                     if n.startswith("checkpoints/") and not is_side_file(n))
    assert f"MODELS {shipped}" in lines                  # every checkpoint shipped is loaded
    module_files = [line.removeprefix("FILE ") for line in lines if line.startswith("FILE ")]
    assert len(module_files) > 10
    assert [f for f in module_files if not Path(f).resolve().is_relative_to(tmp_path.resolve())] == []


# ---------------------------------------------------------------------------- the static Space
@pytest.fixture(scope="module")
def static_space(tmp_path_factory):
    """``python deploy.py --static --copy DIR``'s files, written by deploy.py's own function."""
    dest = tmp_path_factory.mktemp("space-static")
    return dest, deploy.copy_static(dest)


def card_of(text: str) -> list[str]:
    return text.split("---\n")[1].splitlines()


def test_the_static_space_has_its_own_card_and_the_gradio_cards_looks(static_space):
    dest, files = static_space
    card = card_of((dest / "README.md").read_text())
    assert "sdk: static" in card
    assert not [line for line in card if line.startswith(("app_file", "sdk_version", "python_version"))]
    gradio = card_of((ROOT / "README.md").read_text())
    lines = lambda c, start: [line for line in c if line.startswith(start)]   # noqa: E731
    for key in ("emoji:", "colorFrom:", "colorTo:", "license:", "tags:", "  - "):   # the same Space
        assert lines(card, key) == lines(gradio, key)
    title = next(line for line in card if line.startswith("title:"))
    assert title != next(line for line in gradio if line.startswith("title:")) and "static" in title
    short = next(line for line in card if line.startswith("short_description:")).split(":", 1)[1].strip()
    assert 0 < len(short) <= 60   # the Hub's limit for a card's short description
    body = (dest / "README.md").read_text().split("---\n", 2)[2]
    assert "static build" in body and "no Python API" in body


def test_the_static_space_holds_the_site_and_nothing_to_run_in_python(static_space):
    dest, files = static_space
    on_disk = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file())
    assert on_disk == files
    assert {"index.html", "README.md"} <= set(files)       # a static Space serves index.html
    tracked = tracked_files()
    assert sorted({n for n in tracked if n.startswith("web/")} - set(files)) == []
    checkpoints = {n for n in tracked if n.startswith("checkpoints/") and n.endswith(".safetensors")}
    assert sorted(checkpoints - set(files)) == []
    assert [n for n in files if n.endswith((".py", ".txt", ".toml")) or n.startswith(("ui/", "lenet/"))] == []
    sizes = {n: (dest / n).stat().st_size for n in files}
    assert {n: s for n, s in sizes.items() if s > MAX_FILE} == {}
    assert sum(sizes.values()) < MAX_TOTAL


def test_a_static_copy_into_a_clone_keeps_what_is_there(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    files = deploy.copy_static(tmp_path)
    assert (tmp_path / ".git" / "HEAD").read_text() == "ref: refs/heads/main\n"
    assert (tmp_path / "index.html").is_file() and "index.html" in files


def test_the_readme_shows_the_static_commands_deploy_py_prints():
    readme = (ROOT / "README.md").read_text()
    assert deploy.static_command("YOUR_NAME/how-a-cnn-sees-static") in readme
