"""The HTML report: self-contained, with plots and videos; JSON round trip; comparison of runs;
and a check in headless Chromium that the plots render and the videos decode."""

import json
import shutil
import subprocess
from html import escape
from html.parser import HTMLParser

import pytest

from hivla.evaluation import EvalConfig, EvalResults, evaluate, render_report, write_report

RUN_PLOTS = {
    "success-by-chain-length",
    "completed-at-least",
    "success-by-shift",
    "failure-categories",
    "latency-histogram",
}


@pytest.fixture(scope="module")
def mixed_run():
    """The expert with a short step limit: the one-subtask episode succeeds, the five-subtask one times out."""
    cfg = EvalConfig(
        policy="expert", suite="tabletop-mixed", episodes=2, image_size=64, videos=1, max_steps=30
    )
    return evaluate(cfg)


@pytest.fixture(scope="module")
def random_run():
    return evaluate(EvalConfig(policy="random", episodes=2, videos=0, max_steps=10))


class _Elements(HTMLParser):
    def __init__(self):
        super().__init__()
        self.plots, self.videos, self.external = [], [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "svg" and "plot" in (a.get("class") or ""):
            self.plots.append(a.get("data-plot"))
        if tag == "video":
            self.videos.append(a)
        if tag in ("link", "img", "iframe") or (tag == "script" and "src" in a):
            self.external.append(tag)


def _elements(html: str) -> _Elements:
    parser = _Elements()
    parser.feed(html)
    return parser


def test_run_has_a_success_and_a_failure(mixed_run):
    outcomes = [e.outcome for e in mixed_run.episodes]
    assert outcomes.count("success") == 1 and "timeout" in outcomes
    assert all(e.video is not None for e in mixed_run.episodes)


def test_report_is_self_contained_with_plots_and_videos(mixed_run, tmp_path):
    path = write_report(mixed_run, tmp_path / "run")
    html = path.read_text()
    found = _elements(html)
    assert set(found.plots) >= RUN_PLOTS
    assert len(found.videos) == 2 and all(v["src"].startswith("data:video/mp4;base64,") for v in found.videos)
    assert not found.external
    assert html.replace("http://www.w3.org/2000/svg", "").count("http") == 0  # no CDN, no remote anything
    assert all(escape(e.instruction) in html for e in mixed_run.episodes)  # captions name the task
    assert (tmp_path / "run" / "results.json").is_file() and len(
        list((tmp_path / "run" / "videos").glob("*.mp4"))
    ) == 2


def test_results_round_trip_through_json(mixed_run, tmp_path):
    mixed_run.save(tmp_path / "saved")
    loaded = EvalResults.load(tmp_path / "saved")
    assert loaded.metrics == json.loads(json.dumps(mixed_run.metrics))
    assert [e.to_dict() for e in loaded.episodes] == [e.to_dict() for e in mixed_run.episodes]
    assert [loaded.video_bytes(e) for e in loaded.episodes] == [e.video for e in mixed_run.episodes]
    assert len(_elements(render_report([loaded])).videos) == 2
    # rebuilding the report in place does not rewrite the results
    before = (tmp_path / "saved" / "results.json").stat().st_mtime_ns
    write_report(loaded, tmp_path / "saved")
    assert (tmp_path / "saved" / "results.json").stat().st_mtime_ns == before


def test_load_rejects_other_files(tmp_path):
    (tmp_path / "results.json").write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(ValueError, match="re-run `hivla eval`"):
        EvalResults.load(tmp_path)
    with pytest.raises(FileNotFoundError, match="hivla eval --out"):
        EvalResults.load(tmp_path / "missing")


def test_comparison_of_two_runs(mixed_run, random_run, tmp_path):
    path = write_report([mixed_run, random_run], tmp_path / "compare")
    html = path.read_text()
    found = _elements(html)
    assert {
        "compare-success-by-chain-length",
        "compare-success-by-shift",
        "compare-failure-categories",
    } <= set(found.plots)
    assert found.plots.count("success-by-chain-length") == 2  # each run's own section follows
    assert mixed_run.label in html and random_run.label in html
    assert not (tmp_path / "compare" / "results.json").exists()


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(
    _chromium() is None,
    reason="headless Chromium is not installed (Debian: apt-get install chromium; .ci/run installs it)",
)
def test_report_renders_in_headless_chromium(mixed_run, tmp_path):
    path = write_report(mixed_run, tmp_path / "run")
    cmd = [
        _chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=15000", "--dump-dom", path.as_uri(),
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    found = _elements(proc.stdout)
    assert set(found.plots) >= RUN_PLOTS
    states = [v.get("data-state") for v in found.videos]
    assert states == ["ready", "ready"], f"videos did not decode in Chromium: {states}"
