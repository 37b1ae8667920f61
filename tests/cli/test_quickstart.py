import json
import subprocess
import sys


def test_quickstart_runs_the_whole_job_on_the_debug_preset(tmp_path):
    out = tmp_path / "qs"
    args = ["quickstart", "--preset", "debug", "--episodes", "2", "--eval-episodes", "2", "--workers", "1",
            "--out", str(out), "--json"]  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "-m", "hivla.cli.main", *args], capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads(proc.stdout)
    assert set(summary["seconds"]) == {"collect", "train", "evaluate", "report"}
    assert 0.0 <= summary["success"] <= 1.0 and "1" in summary["by_chain_length"]
    report = out / "eval" / "report.html"
    assert report.exists() and "<svg" in report.read_text()
    assert (out / "data" / "meta" / "info.json").exists()
    assert (out / "policy" / "checkpoints" / "latest").exists()
    # --resume reuses the dataset and the trained policy
    proc = subprocess.run(
        [sys.executable, "-m", "hivla.cli.main", *args, "--resume"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "train" not in json.loads(proc.stdout)["seconds"]
