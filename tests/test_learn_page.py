"""'Watch it learn' in the page (web/snapshots.js, web/learn.js) against PyTorch: every moment the
page rebuilds from a snapshots file computes every named layer as torch does with that
snapshot's weights (read by lenet.training.snapshots, the Python reader), for each committed
snapshots file and for one written here by a short real training run; the first committed
snapshot is at chance; and the draw tab, mounted as the shells mount it, used in sequence: the
file is not fetched before the slider moves; a drawing at a moment answers as that moment's
network; Clear empties the panel; back at the end it answers as the checkpoint. Also: the panel
readable and whole at 390 and 1366 px, and the photo tab answering with each other CIFAR-10
model its start lists."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from browser import DRAW_ANSWERED, draw_stroke
from scrub_speed import MOUNT_JS  # the tab mounted as the shells mount it

from lenet.net.checkpoint import averages_mirror, load_checkpoint
from lenet.net.models import REGISTRY, forward_stages
from lenet.page import ROOT, tab_html, tab_starts
from lenet.training.data import load_split
from lenet.training.snapshots import (
    SnapshotRecorder,
    load_snapshots,
    measure_snapshots,
    save_snapshots,
    snapshot_steps,
)

CHECKPOINTS = ROOT / "checkpoints"
DATA = ROOT.parent / "shared" / "data"
COMMITTED = sorted(CHECKPOINTS.glob("*.snapshots.safetensors"))
TOLERANCE = 1e-3        # float16 weights, widened to float32 on both sides
ROUTE = "/learn-test/"  # where the page fetches a file this test wrote (served by page.route)
SEVEN = [(0.3, 0.2), (0.7, 0.2), (0.45, 0.85)]


# ---------------------------------------------------------------------------- a snapshots file
def train_briefly(name: str, out: Path, steps: int = 40) -> Path:
    """A snapshots file of ``steps`` real SGD steps of ``name`` from a fresh init on 2,048
    training images, measured on 500 test images; the committed checkpoint gives the recipe's
    data and normalisation."""
    _, meta = load_checkpoint(CHECKPOINTS / f"{name}.safetensors")
    torch.manual_seed(0)
    model = REGISTRY[name].build(num_classes=len(meta["classes"]))
    x, y, _ = load_split(meta["dataset"], DATA, train=True)
    x, y = x[:2048], y[:2048]
    mean = torch.tensor(meta["mean"]).view(1, -1, 1, 1)
    std = torch.tensor(meta["std"]).view(1, -1, 1, 1)
    recorder = SnapshotRecorder(snapshot_steps(steps, count=6))
    optimiser = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    recorder.offer(0, model)
    for step in range(1, steps + 1):
        batch = torch.randint(0, len(x), (64,))
        loss = torch.nn.functional.cross_entropy(model((x[batch] / 255 - mean) / std), y[batch])
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        recorder.offer(step, model)
    x_test, y_test, _ = load_split(meta["dataset"], DATA, train=False)
    snapshots = measure_snapshots(recorder, meta, x_test[:500], y_test[:500], x, y)
    path = out / f"{name}.snapshots.safetensors"
    save_snapshots(path, snapshots, meta)
    return path


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    return train_briefly("lenet5", tmp_path_factory.mktemp("learn"))


def snapshot_files():
    return [pytest.param(p, id=p.name) for p in COMMITTED] + [pytest.param(None, id="written-here")]


def checkpoint_of(path: Path) -> Path:
    return CHECKPOINTS / path.name.replace(".snapshots.safetensors", ".safetensors")


# ---------------------------------------------------------------------------- the reference
def torch_outputs(model, meta, pixels):
    """Every named output of the image's own pass and the answer's probabilities (with the
    mirror average where the checkpoint asks), stage by stage in torch."""
    x = torch.tensor(pixels, dtype=torch.float32).reshape(1, *meta["input_shape"])
    mean = torch.tensor(meta["mean"]).view(1, -1, 1, 1)
    std = torch.tensor(meta["std"]).view(1, -1, 1, 1)

    def run(v):
        outputs = {}
        with torch.no_grad():
            for name, stage in forward_stages(model):
                v = stage(v)
                if name:
                    outputs[name] = v[0].numpy().ravel()
        return outputs, v

    outputs, logits = run((x - mean) / std)
    if averages_mirror(meta):
        logits = (logits + run(torch.flip((x - mean) / std, dims=[3]))[1]) / 2
    return outputs, torch.softmax(logits[0], 0).numpy()


def sample_input(meta, k=7):
    x, _, _ = load_split(meta["dataset"], DATA, train=False)   # uint8
    return x[k].numpy().ravel().astype(np.float32) / 255


# ---------------------------------------------------------------------------- the page's moments
MOMENTS_JS = """async ({checkpoint, snapshots, pixels}) => {
  const e = await import('/web/engine.js'), s = await import('/web/snapshots.js');
  const bytes = async (url) => (await fetch(url)).arrayBuffer();
  const net = e.networkFromBuffer(await bytes(checkpoint));
  const file = s.snapshotsFromBuffer(await bytes(snapshots), net);
  return file.moments.map((m) => {
    const run = m.net.forward(m.net.normalize(Float32Array.from(pixels)));
    return {step: m.step, accuracy: m.testAccuracy, probabilities: Array.from(run.probabilities),
            outputs: Object.fromEntries(Object.entries(run.outputs)
              .map(([k, v]) => [k, Array.from(v.data)]))};
  });
}"""


def committed_start(tab: str) -> dict:
    """The shells' start for ``tab`` with the committed LeNet-5 and ConvNet, their files named
    as the test page serves them."""
    return tab_starts({name: CHECKPOINTS / f"{name}.safetensors" for name in ("lenet5", "convnet")},
                      lambda p: str(p.resolve().relative_to(ROOT)))[tab]


def serve(page, path: Path) -> str:
    """``path`` fetched by the page at ROUTE + its name."""
    data = path.read_bytes()
    page.route(f"**{ROUTE}{path.name}", lambda route: route.fulfill(body=data,
               headers={"Content-Type": "application/octet-stream"}))
    return ROUTE + path.name


@pytest.mark.parametrize("committed", snapshot_files())
def test_each_moment_in_the_page_is_torch_with_its_weights(committed, written, chromium):
    path = committed or written
    stored = load_snapshots(path)
    checkpoint = checkpoint_of(path)
    _, meta = load_checkpoint(checkpoint)
    pixels = sample_input(meta)
    from jspage import serve_root
    server, url = serve_root()
    page = chromium.new_page()
    try:
        page.goto(f"{url}/tests/jspage.html")
        moments = page.evaluate(MOMENTS_JS, {"checkpoint": "/" + str(checkpoint.relative_to(ROOT)),
                                             "snapshots": serve(page, path), "pixels": pixels.tolist()})
    finally:
        page.close()
        server.shutdown()
    assert [m["step"] for m in moments] == [s.step for s in stored.snapshots]
    assert len({tuple(np.round(m["probabilities"], 4)) for m in moments}) == len(moments)  # all differ
    for shown, snap in zip(moments, stored.snapshots):
        outputs, probabilities = torch_outputs(snap.model, meta, pixels)
        assert set(shown["outputs"]) == set(outputs)
        for name, values in outputs.items():
            assert np.abs(np.asarray(shown["outputs"][name]) - values).max() <= TOLERANCE, (snap.step, name)
        assert np.abs(np.asarray(shown["probabilities"]) - probabilities).max() <= TOLERANCE
        assert shown["accuracy"] == pytest.approx(snap.test_accuracy)


@pytest.mark.parametrize("path", [pytest.param(p, id=p.name) for p in COMMITTED])
def test_the_first_committed_snapshot_is_at_chance(path):
    stored = load_snapshots(path)
    first = stored.snapshots[0]
    assert first.step == 0
    assert abs(first.test_accuracy - 1 / len(stored.meta["classes"])) < 0.05
    assert stored.snapshots[-1].test_accuracy > first.test_accuracy + 0.2


# ---------------------------------------------------------------------------- the tab in sequence
SLIDE_JS = """async ([position, tab = 'draw']) => {
  const range = document.querySelector(`#${tab}-view .ln-range`);
  range.value = String(position);
  range.dispatchEvent(new Event('input'));
  const learn = window.cnnPage[tab].learn;
  while (!learn.loaded() || learn.net() === null) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 50));
}"""
# The curve made for what is shown (it is remade after the view's frame is painted).
CURVE_SETTLED = "(tab) => !document.querySelector(`#${tab}-view .ln-curve`).hasAttribute('aria-busy')"

STATE_JS = """() => { const d = window.cnnPage.draw, run = d.view.run;
  return {pixels: d.state.pixels && Array.from(d.state.pixels), top: run && run.top,
          probabilities: run && Array.from(run.probabilities),
          answer: document.querySelector('#draw-view .nv-answer').innerText,
          moment: document.querySelector('#draw-view .ln-moment').innerText,
          curve: document.querySelector('#draw-view .ln-curve').innerText,
          marker: document.querySelector('#draw-view .ln-curve .chart-marker')?.dataset.x ?? null,
          kernels: document.querySelectorAll('#draw-view .ln-kernel').length,
          sameNet: d.view.net === d.experiments.net}; }"""


def test_the_draw_tab_replays_training_on_a_drawing(written, chromium):
    from jspage import serve_root
    stored = load_snapshots(written)
    model, meta = load_checkpoint(CHECKPOINTS / "lenet5.safetensors")
    model.eval()
    server, url = serve_root()
    page = chromium.new_page(viewport={"width": 1366, "height": 900})
    fetched = []
    page.on("request", lambda r: fetched.append(r.url))
    try:
        page.goto(f"{url}/tests/jspage.html")
        start = committed_start("draw")
        start["models"][0].update(snapshots=serve(page, written)[1:],
                                  snapshot_steps=[s.step for s in stored.snapshots])
        page.evaluate(MOUNT_JS, {"html": tab_html("draw", start), "tab": "draw"})
        draw_stroke(page, SEVEN)
        page.wait_for_function(DRAW_ANSWERED)
        assert not [u for u in fetched if ".snapshots.safetensors" in u], "fetched before the slider was used"

        # A moment of training, then a drawing: the answer is that moment's network's.
        page.evaluate(SLIDE_JS, [2])
        assert [u for u in fetched if ".snapshots.safetensors" in u]
        draw_stroke(page, [(0.2, 0.5), (0.8, 0.5)])
        page.wait_for_function(DRAW_ANSWERED)
        page.wait_for_function(CURVE_SETTLED, arg="draw")
        shown = page.evaluate(STATE_JS)
        _, probabilities = torch_outputs(stored.snapshots[2].model, meta, np.asarray(shown["pixels"]))
        assert np.abs(np.asarray(shown["probabilities"]) - probabilities).max() <= TOLERANCE
        assert shown["top"] == int(probabilities.argmax()) and shown["sameNet"]
        assert f"Step {stored.snapshots[2].step}" in shown["moment"]
        assert float(shown["marker"]) == stored.snapshots[2].step and shown["kernels"] == 6
        _, trained = torch_outputs(model, meta, np.asarray(shown["pixels"]))
        assert f"p({meta['classes'][int(trained.argmax())]})" in shown["curve"]

        # Clear: nothing shown, no curve for the old drawing.
        page.click("#draw-view .pad-clear")
        cleared = page.evaluate(STATE_JS)
        assert cleared["top"] is None and "p(" not in cleared["curve"] and "Draw or show" in cleared["curve"]

        # Back to the end of training: the checkpoint's answer on a new drawing.
        draw_stroke(page, SEVEN)
        page.wait_for_function(DRAW_ANSWERED)
        page.click("#draw-view .ln-end")
        page.wait_for_function("() => window.cnnPage.draw.view.net === window.cnnPage.draw.main")
        end = page.evaluate(STATE_JS)
        _, probabilities = torch_outputs(model, meta, np.asarray(end["pixels"]))
        assert np.abs(np.asarray(end["probabilities"]) - probabilities).max() <= 1e-4
        assert "end of training" in end["moment"]
    finally:
        page.close()
        server.shutdown()


def test_a_model_without_snapshots_shows_no_slider(tmp_path):
    """tab_starts names the file beside a checkpoint and its steps; null and [] without one."""
    (tmp_path / "lenet5.safetensors").write_bytes((CHECKPOINTS / "lenet5.safetensors").read_bytes())
    named = str
    bare = tab_starts({"lenet5": tmp_path / "lenet5.safetensors",
                       "convnet": CHECKPOINTS / "convnet.safetensors"}, named)["draw"]["models"][0]
    assert bare["snapshots"] is None and bare["snapshot_steps"] == []
    written = train_briefly("lenet5", tmp_path, steps=12)
    found = tab_starts({"lenet5": tmp_path / "lenet5.safetensors",
                        "convnet": CHECKPOINTS / "convnet.safetensors"}, named)["draw"]["models"][0]
    assert found["snapshots"] == str(written)
    steps = [s.step for s in load_snapshots(written).snapshots]
    assert found["snapshot_steps"] == steps == snapshot_steps(12, count=6)


# ---------------------------------------------------------------------------- readable, and the photo tab
PANEL_JS = """({least, tab = 'draw'}) => {
  const panel = document.querySelector(`#${tab}-view .ln-panel`), bad = [];
  for (const node of [panel, ...panel.querySelectorAll('*')]) {
    const r = node.getBoundingClientRect();
    if (!r.width || !r.height) continue;
    if (r.left < -0.5 || r.right > innerWidth + 0.5) bad.push(`${node.className} ${r.left}-${r.right}`);
    if (node.tagName.toLowerCase() === 'title') continue;
    const text = [...node.childNodes].some((c) => c.nodeType === 3 && c.textContent.trim());
    if (!text) continue;
    const svg = node.closest('svg');
    const scale = svg ? svg.getBoundingClientRect().width / svg.viewBox.baseVal.width : 1;
    const size = parseFloat(getComputedStyle(node).fontSize) * scale;
    if (size < least - 0.05) bad.push(`${size.toFixed(1)}px ${node.textContent.slice(0, 30)}`);
  }
  for (const text of panel.querySelectorAll('svg text')) {   // SVG text does not wrap: it runs out
    const box = text.closest('svg').getBoundingClientRect(), r = text.getBoundingClientRect();
    if (r.left < box.left - 0.5 || r.right > box.right + 0.5
        || r.top < box.top - 0.5 || r.bottom > box.bottom + 0.5)
      bad.push(`out of its picture: ${text.textContent}`);
  }
  return {bad, shown: !panel.hidden, curve: !!panel.querySelector('.chart-marker')}; }"""


@pytest.mark.parametrize("width", [390, 1366])
def test_the_panel_is_readable_and_whole_from_a_phone_up(width, written, chromium):
    from jspage import serve_root
    stored = load_snapshots(written)
    server, url = serve_root()
    page = chromium.new_page(viewport={"width": width, "height": 844})
    try:
        page.goto(f"{url}/tests/jspage.html")
        start = committed_start("draw")
        start["models"][0].update(snapshots=serve(page, written)[1:],
                                  snapshot_steps=[s.step for s in stored.snapshots])
        page.evaluate(MOUNT_JS, {"html": tab_html("draw", start), "tab": "draw"})
        pixels = sample_input(load_checkpoint(CHECKPOINTS / "lenet5.safetensors")[1])
        page.evaluate("(pixels) => window.handOver('draw', {pixels, caption: 'test image #7'})",
                      pixels.tolist())
        page.evaluate(SLIDE_JS, [1])
        page.wait_for_function(CURVE_SETTLED, arg="draw")
        found = page.evaluate(PANEL_JS, {'least': 13})
        assert found["shown"] and found["curve"] and found["bad"] == []
    finally:
        page.close()
        server.shutdown()


@pytest.mark.parametrize("width", [390, 1366])
def test_the_photo_tabs_panel_is_whole_with_a_class_name_in_its_title(width, chromium):
    """The ConvNet's committed snapshots on a test airplane: the curve's title names the class
    ("p(airplane) and test accuracy ..."), longer than a digit's, and must not be cut off."""
    from jspage import serve_root
    server, url = serve_root()
    page = chromium.new_page(viewport={"width": width, "height": 844})
    try:
        page.goto(f"{url}/tests/jspage.html")
        start = committed_start("photo")
        assert start["models"][0]["snapshots"] and len(start["models"][0]["snapshot_steps"]) == 10
        page.evaluate(MOUNT_JS, {"html": tab_html("photo", start), "tab": "photo"})
        # The site's and Gradio's sans-serif, wider than the test page's default serif.
        page.add_style_tag(content="body { font-family: ui-sans-serif, system-ui, sans-serif; }")
        pixels = sample_input(load_checkpoint(CHECKPOINTS / "convnet.safetensors")[1], k=7)
        page.evaluate("(pixels) => window.handOver('photo', {pixels, caption: 'test image #7'})",
                      pixels.tolist())
        page.evaluate(SLIDE_JS, [6, "photo"])
        page.wait_for_function(CURVE_SETTLED, arg="photo")
        found = page.evaluate(PANEL_JS, {"least": 13, "tab": "photo"})
        assert found["shown"] and found["curve"] and found["bad"] == []
        assert "p(airplane) and test accuracy" in page.inner_text("#photo-view .ln-curve")
    finally:
        page.close()
        server.shutdown()


def other_photo_model() -> Path | None:
    for path in (CHECKPOINTS / "dense-cifar.safetensors", ROOT / "runs/dense-cifar/dense-cifar.safetensors"):
        if path.is_file():
            return path
    return None


@pytest.mark.skipif(other_photo_model() is None,
                    reason="no dense-cifar checkpoint (train.py --model dense-cifar)")
def test_the_photo_tab_answers_with_every_photo_model_it_is_given(chromium):
    """The photo tab lists each other CIFAR-10 model of its start beside the ConvNet, answering
    on the same test image as torch does."""
    from jspage import serve_root
    path = other_photo_model()
    other, meta = load_checkpoint(path)
    other.eval()
    server, url = serve_root()
    page = chromium.new_page(viewport={"width": 1366, "height": 900})
    try:
        page.goto(f"{url}/tests/jspage.html")
        checkpoints = {name: CHECKPOINTS / f"{name}.safetensors" for name in ("lenet5", "convnet")}
        start = tab_starts({**checkpoints, "dense-cifar": path},
                           lambda p: str(p.resolve().relative_to(ROOT)))["photo"]
        assert [m["name"] for m in start["models"]] == ["convnet", "dense-cifar"]
        page.evaluate(MOUNT_JS, {"html": tab_html("photo", start), "tab": "photo"})
        pixels = sample_input(meta, k=3)
        page.evaluate("(pixels) => window.handOver('photo', {pixels, caption: 'test image #3'})",
                      pixels.tolist())
        answered = "() => document.querySelector('#photo-view .nv-models').innerText.includes(' with ')"
        page.wait_for_function(answered)
        said = page.inner_text("#photo-view .nv-models")
        _, probabilities = torch_outputs(other, meta, pixels)
        k = int(probabilities.argmax())
        assert f"{meta['title']}: {meta['classes'][k]} with" in said
    finally:
        page.close()
        server.shutdown()
