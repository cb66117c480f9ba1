"""The demo report in a real headless browser (Debian's chromium): the charts' SVG elements exist in the
rendered DOM and carry data points, and a screenshot is saved. Skipped only when no chromium binary exists
(CI installs it: .ci/run)."""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from tests.report.demo_run import DemoRun
from tests.report.dom import Element, parse

CHROMIUM_NAMES = ("chromium", "chromium-browser")
CHARTS_WITH_DATA = (
    "chart-daily-cost",
    "chart-latency",
    "chart-requests-commits",
    "chart-latency-effect",
    "chart-acceptance",
)
ALL_CHARTS = (*CHARTS_WITH_DATA, "chart-lag-profile")
WINDOW = (1280, 2400)


def chromium() -> str:
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    pytest.skip(
        f"no chromium binary on PATH (looked for {', '.join(CHROMIUM_NAMES)}); apt-get install chromium"
    )


def run_chromium(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile.mkdir(parents=True, exist_ok=True)
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
    ]
    proc = subprocess.run([binary, *flags, *args], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc


@pytest.fixture(scope="module")
def rendered(demo: DemoRun, tmp_path_factory: pytest.TempPathFactory) -> tuple[Element, Path]:
    binary = chromium()
    folder = tmp_path_factory.mktemp("browser")
    url = demo.report.resolve().as_uri()
    dom = run_chromium(binary, folder / "profile-dom", "--dump-dom", url).stdout
    screenshot = folder / "demo-report.png"
    run_chromium(binary, folder / "profile-shot", f"--screenshot={screenshot}", url)
    print(f"screenshot of the demo report: {screenshot}")
    return parse(dom), screenshot


def test_browser_renders_every_chart_with_data(rendered: tuple[Element, Path]) -> None:
    dom, _ = rendered
    assert dom.find_all(lambda e: e.tag == "h1")[0].text.startswith("ProdLens report: ")
    for chart_id in ALL_CHARTS:
        svg = dom.by_id(chart_id)
        assert svg.tag == "svg"
        marks = svg.marks()
        assert int(svg.attrs["data-points"]) == len(marks), chart_id
        for mark in marks:
            float(mark.attrs["data-y"])  # every data point carries a number
    for chart_id in CHARTS_WITH_DATA:
        marks = dom.by_id(chart_id).marks()
        assert len(marks) > 0, chart_id
        drawn = [m for m in marks if m.tag in {"rect", "circle", "g"}]
        assert len(drawn) == len(marks)
    cost_days = {m.attrs["data-x"] for m in dom.by_id("chart-daily-cost").marks()}
    request_days = {m.attrs["data-x"] for m in dom.by_id("chart-requests-commits").marks()}
    assert cost_days <= request_days and len(request_days) >= 28
    assert dom.by_id("strongest-correlation").text.strip()
    assert len(dom.by_id("associations").find_all(lambda e: e.tag == "tr" and "data-lag" in e.attrs)) == 96


def test_browser_screenshot_is_saved(rendered: tuple[Element, Path]) -> None:
    _, screenshot = rendered
    data = screenshot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == WINDOW
    assert len(data) > 50_000, "a blank page compresses to a few kB; the charts make it much larger"
