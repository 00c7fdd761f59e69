"""The page's SVG charts: round ticks, bars and lines where their numbers say, text as text."""
import re

import numpy as np

from ui.charts import BOTTOM, HEIGHT, TOP, bar_chart, line_chart, ticks


def test_ticks_are_round_numbers_covering_the_range():
    assert ticks(0, 1) == [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert ticks(-60, 60, 6) == [-60, -40, -20, 0, 20, 40, 60]
    assert ticks(0.02, 0.31) == [0.1, 0.2, 0.3]
    assert ticks(5, 5) == [5]


def test_a_marker_sits_at_its_value_on_the_x_axis():
    svg = line_chart({"a": ([-60, 60], [0, 100])}, "t", "rotation", "p", marker=30)
    assert 'class="chart-marker" data-x="30"' in svg
    x1 = float(re.search(r'<line x1="([\d.]+)"[^>]*class="chart-marker"', svg).group(1))
    # Where the chart's own x-axis puts 30: halfway between its ticks "20" and "40".
    tick = {label: float(x) for x, label in re.findall(
        r'<text x="([\d.]+)" y="[\d.]+" text-anchor="middle">(-?\d+)</text>', svg)}
    assert abs(x1 - (tick["20"] + tick["40"]) / 2) < 0.1
    # and the line itself starts over the tick of its first x, -60
    first = float(re.search(r'<polyline points="([\d.]+),', svg).group(1))
    assert abs(first - tick["-60"]) < 0.1


def test_bars_are_as_tall_as_their_values_and_labelled_with_them():
    svg = bar_chart(["0", "1", "2"], [0.5, 2.0, 1.0], "Test error per class (%)", "error (%)")
    heights = [float(h) for h in re.findall(r'<rect [^>]*height="([\d.]+)"', svg)]
    assert heights[1] == max(heights) and abs(heights[0] * 4 - heights[1]) < 0.5
    assert ">0.5</text>" in svg and ">2.0</text>" in svg and ">1.0</text>" in svg
    tops = [float(v) for v in re.findall(r'<rect [^>]*y="([\d.]+)"', svg)]
    assert all(TOP <= top <= HEIGHT - BOTTOM for top in tops)


def test_many_lines_get_their_key_below_as_html():
    svg = line_chart({str(k): ([0, 1], [k, k + 1]) for k in range(10)}, "t", "x", "y")
    assert svg.count("<polyline") == 10 and svg.count("■") == 10


# ---------------------------------------------------------------------------- the page's twin
# web/charts.js draws the same charts in the page: the same ticks, points, bars and text as
# ui/charts.py for the same numbers, checked part by part (a clear message) and then as text.

PAGE_LINE = """async ({cases}) => { const c = await import('/web/charts.js');
  return cases.map(({series, title, xlabel, ylabel, marker}) => c.lineChart(
    series, {title, xlabel, ylabel, marker: marker === null ? undefined : marker})); }"""
PAGE_BARS = """async ({cases}) => { const c = await import('/web/charts.js');
  return cases.map(({names, values, title, ylabel}) => c.barChart(names, values, {title, ylabel})); }"""


def chart_parts(html: str) -> dict:
    """A chart's numbers and words as a reader sees them: the axes' ticks (text and place),
    each line's points, each bar, the marker, the legend and key."""
    number_pairs = lambda text: [tuple(map(float, p.split(","))) for p in text.split()]  # noqa: E731
    return {
        "texts": re.findall(r'<text ([^>]*)>([^<]*)</text>', html),
        "grid": [float(v) for v in re.findall(r'<line [^>]*y1="([-\d.]+)"[^>]*class="chart-grid"', html)],
        "lines": [(number_pairs(points), colour, name) for points, colour, name in re.findall(
            r'<polyline points="([^"]*)" fill="none" stroke="([^"]*)"[^>]*><title>([^<]*)</title>', html)],
        "bars": [tuple(map(float, bar[:4])) + bar[4:] for bar in re.findall(
            r'<rect x="([-\d.]+)" y="([-\d.]+)" width="([-\d.]+)" height="([-\d.]+)" fill="([^"]*)">'
            r'<title>([^<]*)</title>', html)],
        "marker": re.findall(r'<line ([^>]*class="chart-marker"[^>]*)/>', html),
        "key": re.findall(r'<span style="color: ([^"]*)">([^<]*)</span>', html),
    }


def line_cases() -> list[dict]:
    """Charts as the tabs draw them (training curves, an invariance sweep with its marker) and
    awkward ones: ten lines, negative and tiny ranges, a flat line, names that need escaping."""
    rng = np.random.default_rng(22)
    epochs = list(range(1, 16))
    angles = list(range(-60, 61, 5))
    cases = [
        ({"training": (epochs, list(0.6 * np.exp(-0.3 * np.arange(15)) + 0.02)),
          "validation": (epochs, list(0.5 * np.exp(-0.25 * np.arange(15)) + 0.04))},
         "Loss per epoch", "epoch", "loss", None),
        ({"validation": (epochs, list(95 + 4 * rng.random(15)))},
         "Validation accuracy per epoch", "epoch", "accuracy (%)", None),
        ({str(k): (angles, list(100 * rng.random(len(angles)))) for k in range(10)},
         "Probability by rotation", "rotation (°)", "p (%)", 30),
        ({"a & <b>": ([0.02, 0.1, 0.31], [-0.004, 0.0021, 0.0003])}, "tiny \"ranges\"", "x", "y", 0.1),
        ({"flat": ([0, 1, 2], [5, 5, 5]), "big": ([0, 1, 2], [1e6, 2.5e6, 3e5])}, "t", "x", "y", -2.5),
        ({"shift": (list(range(-6, 7)), list(rng.normal(0, 3, 13)))}, "Shift", "pixels", "logit", 0),
    ]
    return [{"series": [{"name": name, "points": [[float(a), float(b)] for a, b in zip(xs, ys)]}
                        for name, (xs, ys) in series.items()],
             "python": line_chart({n: ([float(a) for a in xs], [float(b) for b in ys])
                                   for n, (xs, ys) in series.items()}, title, xt, yt, marker=marker),
             "title": title, "xlabel": xt, "ylabel": yt, "marker": marker}
            for series, title, xt, yt, marker in cases]


def bar_cases() -> list[dict]:
    rng = np.random.default_rng(7)
    cifar = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    cases = [([str(k) for k in range(10)], list(100 * rng.random(10) / 50)),
             (cifar, list(30 * rng.random(10))),
             (["0", "1", "2"], [0.5, 2.0, 1.0]),
             (["none", "wrong"], [0.0, 0.0]),
             (["a<b", "it's"], [0.25, 0.75])]
    return [{"names": names, "values": [float(v) for v in values], "title": "Test error per class (%)",
             "ylabel": "error (%)",
             "python": bar_chart(names, [float(v) for v in values], "Test error per class (%)", "error (%)")}
            for names, values in cases]


def test_the_page_draws_the_same_line_charts_as_python(js_page):
    cases = line_cases()
    drawn = js_page.evaluate(PAGE_LINE, {"cases": [{k: v for k, v in c.items() if k != "python"}
                                                   for c in cases]})
    for case, page in zip(cases, drawn):
        assert chart_parts(page) == chart_parts(case["python"]), case["title"]
        assert page == case["python"], case["title"]
    assert chart_parts(drawn[2])["marker"] and len(chart_parts(drawn[2])["key"]) == 10


def test_the_page_draws_the_same_bar_charts_as_python(js_page):
    cases = bar_cases()
    drawn = js_page.evaluate(PAGE_BARS, {"cases": [{k: v for k, v in c.items() if k != "python"}
                                                   for c in cases]})
    for case, page in zip(cases, drawn):
        assert chart_parts(page) == chart_parts(case["python"]), case["names"]
        assert page == case["python"], case["names"]
    assert [bar[5] for bar in chart_parts(drawn[1])["bars"]][0].startswith("airplane: ")


def test_the_page_writes_numbers_as_python_does_ties_included(js_page):
    """Exact halves (0.25, 0.75 ...) round to the even digit in Python and away from zero in
    JavaScript's toFixed; the ticks of many ranges, and %g's powers of ten."""
    values = [0.25, 0.75, 1.25, 2.5, -0.25, -1.75, 125.25, 0.05, 1 / 3, -0.0001, 0, 1e-5, 123456.5,
              2.5e6, 0.1 + 0.2]
    ranges = [(0, 1, 5), (-60, 60, 6), (0.02, 0.31, 5), (5, 5, 5), (0.013, 0.0131, 5),
              (-3.7, 12.2, 5), (1, 15, 6), (0, 4.6, 5), (97.1, 99.4, 5), (-1e-3, 2e-3, 5)]
    page = js_page.evaluate("""async ({values, ranges}) => { const c = await import('/web/charts.js');
        return {one: values.map((v) => c.pyFixed(v, 1)), two: values.map((v) => c.pyFixed(v, 2)),
                g: values.map(c.pyG), ticks: ranges.map(([a, b, n]) => c.ticks(a, b, n))}; }""",
                            {"values": values, "ranges": ranges})
    assert page["one"] == [f"{v:.1f}" for v in values]
    assert page["two"] == [f"{v:.2f}" for v in values]
    assert page["g"] == [f"{v:g}" for v in values]
    assert page["ticks"] == [ticks(a, b, n) for a, b, n in ranges]
