"""The page's random numbers (web/prng.js) equal Python's (lenet/inside/prng.py) for the same
seed: the random filters, the lab's noise and the gallery's shuffle depend on it. Also checks
that the numbers behave as random numbers should, so that both cannot be wrong alike."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from lenet.inside.prng import Draws

WEB = Path(__file__).resolve().parent.parent / "web"
SEEDS = (0, 1, 42, 2**31 - 1, 2**32 - 1, 2**32 + 5)


def node_draws(seed: int) -> dict:
    script = (f"import {{ Draws }} from {json.dumps((WEB / 'prng.js').as_uri())};"
              f"const d = new Draws({seed}n);"
              "console.log(JSON.stringify({uniform: Array.from(d.uniform(1000)),"
              " normal: Array.from(d.normal(1001)), shuffled: d.shuffled(500)}));")
    out = subprocess.run(["node", "--input-type=module", "-e", script], capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout)


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node (installed by .ci/run)")
@pytest.mark.parametrize("seed", SEEDS)
def test_the_page_draws_the_same_numbers_as_python(seed):
    page, draws = node_draws(seed), Draws(seed)
    assert page["uniform"] == draws.uniform(1000).tolist()          # exact: integer arithmetic
    np.testing.assert_allclose(page["normal"], draws.normal(1001), rtol=0, atol=1e-12)
    assert page["shuffled"] == draws.shuffled(500).tolist()


def test_the_draws_look_random():
    u, z = Draws(3).uniform(20000), Draws(4).normal(20000)
    assert 0 <= u.min() and u.max() < 1 and abs(u.mean() - 0.5) < 0.01
    assert np.histogram(u, bins=10, range=(0, 1))[0].min() > 1800
    assert abs(z.mean()) < 0.03 and abs(z.std() - 1) < 0.03
    assert sorted(Draws(5).shuffled(100).tolist()) == list(range(100))
    assert Draws(5).shuffled(100).tolist() != list(range(100))
    assert Draws(1).uniform(5).tolist() != Draws(2).uniform(5).tolist()
