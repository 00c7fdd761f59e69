"""The page's SVG charts: round ticks, bars and lines where their numbers say, text as text."""
import re

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
