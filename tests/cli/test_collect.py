"""The collect and data commands end to end on a tiny run."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from hivla.cli.main import main


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hivla.cli.main", *args], capture_output=True, text=True, timeout=300
    )


def test_collect_then_info_stats_viz(tmp_path, capsys):
    root = tmp_path / "ds"
    proc = run_cli("collect", "--out", str(root), "--episodes", "2", "--workers", "2", "--image-size", "64",
                   "--max-steps", "17", "--json")  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout)
    assert out["episodes"] == 2 and out["dropped"] >= 1  # 17 steps is too short for some seeds
    assert len(out["dropped_seeds"]) == out["dropped"]

    assert main(["data", "info", str(root), "--verify", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["episodes"] == 2 and info["verified"] and info["hivla_format_version"] == 2
    assert info["features"]["observation.images.front"]["shape"] == [64, 64, 3]

    (root / "meta/stats.json").unlink()
    assert main(["data", "stats", str(root), "--json"]) == 0
    assert "action" in json.loads(capsys.readouterr().out)["features"]
    assert (root / "meta/stats.json").is_file()

    video = tmp_path / "ep.mp4"
    assert main(["data", "viz", str(root), "--episode", "1", "--out", str(video), "--json"]) == 0
    capsys.readouterr()
    from hivla.data.video import decode_video

    frames = decode_video(video, fps=10)
    assert frames.shape[2] == 2 * 64 * 2 and frames.shape[1] > 2 * 64  # two cameras at 2x, text below
    text_area = frames[:, 2 * 64 :]
    assert text_area.max() > 200 and np.median(text_area) < 60  # light text on a dark panel


def test_collect_refuses_an_existing_dataset_without_resume(tmp_path):
    root = tmp_path / "ds"
    assert main(["collect", "--out", str(root), "--episodes", "1", "--image-size", "64", "--json"]) == 0
    proc = run_cli("collect", "--out", str(root), "--episodes", "1", "--image-size", "64")
    assert proc.returncode != 0 and "pass --resume" in proc.stderr
    proc = run_cli("collect", "--out", str(root), "--episodes", "2", "--image-size", "96", "--resume")
    assert proc.returncode != 0 and "cannot resume" in proc.stderr


def test_unknown_suite_is_a_clear_error(tmp_path):
    proc = run_cli("collect", "--out", str(tmp_path / "x"), "--suite", "tabletop-singel")
    assert proc.returncode != 0 and "Did you mean 'tabletop-single'" in proc.stderr


def test_collect_video_only_then_resume_keeps_it_video_only(tmp_path, capsys):
    root = tmp_path / "hand"
    args = ["collect", "--out", str(root), "--embodiment", "hand", "--video-only", "--episodes", "1",
            "--image-size", "64", "--max-steps", "25", "--max-failures", "200"]  # fmt: skip
    assert main([*args, "--json"]) == 0
    capsys.readouterr()
    assert main(["data", "info", str(root), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert (
        info["episodes"] == 1
        and "action" not in info["features"]
        and "observation.state" not in info["features"]
    )
    assert "observation.images.front" in info["features"]
    args[args.index("--episodes") + 1] = "2"
    assert main([*args, "--resume"]) == 0  # the same run continues
    without = [a for a in args if a != "--video-only"]
    with pytest.raises(ValueError, match=r"'video_only': False.*--video-only"):  # actions may not continue it
        main([*without, "--episodes", "3", "--resume"])
