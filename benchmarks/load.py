"""Load: 20 concurrent gradio_client clients x 10 photo requests each, against ``app.py`` and
against a bare Gradio app whose handler returns at once (``bare_app.py``), in the same run.

Prints failures, p50/p95 latency, requests/s and the server's RSS before and after, and the
ratio of the app's requests/s to the bare app's.

    python benchmarks/load.py [--clients 20] [--requests 10]
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from browser import free_port, start_app, stop_app
from PIL import Image
from timing import all_at_once


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def hammer(url: str, photos: list[str], clients: int, requests: int) -> dict:
    from gradio_client import Client, handle_file
    pool = [Client(url, download_files=False, verbose=False) for _ in range(clients)]
    latencies, failures, lock = [], [], threading.Lock()

    def work(index, client):
        for k in range(requests):
            photo = photos[(index * requests + k) % len(photos)]
            start = time.perf_counter()
            try:
                client.predict(handle_file(photo), api_name="/classify_photo")
                with lock:
                    latencies.append(time.perf_counter() - start)
            except Exception as exc:  # a failed request is the measurement, not a crash
                with lock:
                    failures.append(repr(exc)[:120])
    wall = all_at_once(work, pool)
    latencies.sort()
    return {"ok": len(latencies), "failures": failures, "wall": wall,
            "rps": len(latencies) / wall,
            "p50": 1000 * statistics.median(latencies) if latencies else float("nan"),
            "p95": 1000 * latencies[int(0.95 * (len(latencies) - 1))] if latencies else float("nan")}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--clients", type=int, default=20)
    p.add_argument("--requests", type=int, default=10)
    args = p.parse_args()
    # A different photo for every request, so that no server can answer from a cache.
    folder, rng = Path(tempfile.mkdtemp()), np.random.default_rng(0)
    photos = []
    for k in range(args.clients * args.requests + 4):
        photos.append(str(folder / f"photo{k}.jpg"))
        Image.fromarray(rng.integers(0, 255, (480, 640, 3), np.uint8)).save(photos[-1], quality=90)
    rows = {}
    for name, script in (("bare gradio", "benchmarks/bare_app.py"), ("app.py", "app.py")):
        port = free_port()
        proc, _ = start_app(port, script=script)
        try:
            url = f"http://127.0.0.1:{port}/"
            hammer(url, photos[-4:], 2, 2)  # warm-up: first-request costs out of the figures
            before = rss_mb(proc.pid)
            result = hammer(url, photos[:-4], args.clients, args.requests)
            result["rss"] = (before, rss_mb(proc.pid))
            rows[name] = result
        finally:
            stop_app(proc)
    total = args.clients * args.requests
    print(f"{args.clients} clients x {args.requests} photo requests = {total} per server")
    print(f"{'server':<13}{'failures':>9}{'p50 ms':>9}{'p95 ms':>9}{'req/s':>8}{'RSS MB before → after':>24}")
    for name, r in rows.items():
        print(f"{name:<13}{len(r['failures']):>9}{r['p50']:>9.0f}{r['p95']:>9.0f}{r['rps']:>8.1f}"
              f"{r['rss'][0]:>14.0f} → {r['rss'][1]:.0f}")
        for failure in r["failures"][:3]:
            print(f"    {failure}")
    print(f"ratio app / bare: {rows['app.py']['rps'] / rows['bare gradio']['rps']:.2f}x")


if __name__ == "__main__":
    main()
