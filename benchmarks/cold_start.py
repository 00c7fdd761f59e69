"""Cold start: ``python app.py`` to its first page served, beside a bare Gradio app
(``benchmarks/bare_app.py``) started in the same run, in turn, median of the rounds.

The clock runs from starting the process to the first ``GET /`` answered 200: the imports,
the page's build and the launch. The request is sent as soon as the server accepts a
connection and then waited for as long as it takes, as a browser waits (``browser.start_app``
gives up on a request after 1 s and asks again), so whatever the app does after launching
(its warm-up) counts where it holds up that page. Also printed: when the server began to
listen, and the CPU seconds the process had used by its first page (``/proc``), its own work
without the time it waited for a core.

    python benchmarks/cold_start.py [--rounds 3] [--app-dir CHECKOUT ...]

``--app-dir`` starts another checkout's ``app.py`` (a worktree of an older commit, say);
given more than once, each is started in the same rounds, so a before and an after are
measured side by side.
"""
from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from browser import ROOT, free_port, stop_app
from timing import cpu_seconds, in_turn, medians

BARE, BARE_LABEL = ROOT / "benchmarks" / "bare_app.py", "bare Gradio app"


@dataclass
class Start:
    wall: float     # seconds from starting the process to its first page
    cpu: float      # CPU seconds (user + system) the process had used by then
    listen: float   # seconds from starting the process to its server accepting connections


def listening(proc: subprocess.Popen, port: int, start: float, timeout: float) -> float:
    """Seconds from ``start`` until ``port`` accepts a connection."""
    while time.perf_counter() - start < timeout:
        if proc.poll() is not None:
            raise SystemExit(f"the app exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return time.perf_counter() - start
        except OSError:
            time.sleep(0.02)
    raise SystemExit(f"nothing listened on {port} in {timeout:.0f} s")


def first_page(script: Path, cwd: Path, timeout: float = 120) -> Start:
    """Start ``script`` (as ``browser.start_app`` does) and time its first page."""
    port = free_port()
    env = {**os.environ, "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port),
           "GRADIO_ANALYTICS_ENABLED": "False"}
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, str(script)], cwd=cwd, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        listen = listening(proc, port, start, timeout)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=timeout) as r:
            r.read()
            if r.status != 200:
                raise SystemExit(f"{script} answered {r.status}")
        return Start(time.perf_counter() - start, cpu_seconds(proc.pid), listen)
    finally:
        stop_app(proc)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=3, help="starts of each app (default 3)")
    p.add_argument("--app-dir", type=Path, action="append",
                   help="a checkout whose app.py is started (default: this one); give it again "
                        "to compare checkouts in the same rounds")
    args = p.parse_args()
    apps = {f"app.py ({d})": d for d in (path.resolve() for path in args.app_dir or [ROOT])}
    # Taken in turn, the bare app first in each round: a shared machine's speed drifts.
    measures = {BARE_LABEL: lambda: first_page(BARE, ROOT)}
    measures.update({label: partial(first_page, d / "app.py", d) for label, d in apps.items()})
    starts = in_turn(measures, args.rounds)
    print(f"{args.rounds} starts of each, in turn")
    clocks = {"listen": "s until it listens", "wall": "s to its first page",
              "cpu": "CPU s by its first page"}
    for clock, words in clocks.items():
        typical = medians({name: [getattr(s, clock) for s in runs] for name, runs in starts.items()})
        print(f"{words}, median (runs):")
        for label, runs in starts.items():
            each = ", ".join(f"{getattr(s, clock):.2f}" for s in runs)
            extra = f"   {typical[label] - typical[BARE_LABEL]:+.2f} vs bare" if label in apps else ""
            print(f"  {label:<44} {typical[label]:5.2f} ({each}){extra}")

if __name__ == "__main__":
    main()
