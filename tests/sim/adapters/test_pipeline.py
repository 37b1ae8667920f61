"""An external suite through the whole pipeline: sim list, sim rollout, collect, train, eval, report."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hivla.cli.main import main as cli


def _json(capsys, *args) -> dict:
    capsys.readouterr()
    assert cli([*args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_sim_list_names_external_suites_and_their_robots(capsys):
    data = _json(capsys, "sim", "list")
    mt10 = data["external_suites"]["metaworld-mt10"]
    assert mt10["tasks"] == 10 and mt10["embodiment"] == "sawyer" and mt10["scripted_policy"]
    assert (
        mt10["gym_id"] == "hivla/metaworld-mt10-v3"
        and data["external_suites"]["metaworld-mt50"]["tasks"] == 50
    )
    assert {"libero-spatial", "libero-object", "libero-goal", "libero-10"} <= set(data["external_suites"])
    assert "metaworld-ml1-pick-place" in data["external_suites"] and "tabletop-mixed" in data["suites"]
    assert {"sawyer", "panda-osc", "arm6"} <= set(data["embodiments"])


def test_sim_rollout_reports_success_per_task_through_the_worker(capsys):
    out = _json(capsys, "sim", "rollout", "--suite", "test-reach-worker", "--embodiment", "point-hand",
                "--episodes", "4", "--image-size", "64")  # fmt: skip
    assert out["overall"]["success"] == 1.0
    assert {k: v["episodes"] for k, v in out["by_task"].items()} == {"reach-left": 2, "reach-right": 2}


def test_collect_train_eval_report(capsys, tmp_path):
    data, run = tmp_path / "data", tmp_path / "run"
    out = _json(capsys, "collect", "--suite", "test-reach", "--embodiment", "point-hand", "--episodes", "3",
                "--image-size", "64", "--out", str(data))  # fmt: skip
    assert out["episodes"] == 3 and out["dropped"] == 0
    from hivla.data.dataset import ChunkDataset, LoaderConfig

    item = ChunkDataset(data, LoaderConfig())[0]
    assert item["observation.images.front"].shape[-2:] == (64, 64) and item["action"].shape[-1] == 3
    assert item["embodiment"] == "point-hand" and item["task"].startswith("reach the red dot")
    assert np.isfinite(item["action.universal"].numpy()).all()
    assert cli(["train", "--preset", "debug", "--data", str(data), "--out", str(run), "--threads", "1",
                "--steps", "3", "--eval-every", "3", "--eval-suite", "test-reach", "--json"]) == 0  # fmt: skip
    capsys.readouterr()
    from hivla.errors import HivlaError
    from hivla.policies import load_policy
    from hivla.training import RolloutEvalConfig, SimRolloutEval

    policy = load_policy(run)
    assert policy.embodiments == ("point-hand",)
    metrics = SimRolloutEval(RolloutEvalConfig(suite="test-reach", episodes=1, max_steps=3))(policy, step=0)
    assert 0.0 <= metrics["eval/success"] <= 1.0
    with pytest.raises(HivlaError, match="--eval-suite"):  # the presets' built-in suite cannot run it
        SimRolloutEval(RolloutEvalConfig(episodes=1, max_steps=3))(policy, step=0)
    result = _json(capsys, "eval", "--policy", str(run), "--suite", "test-reach", "--embodiment", "point-hand",
                   "--episodes", "2", "--max-steps", "5")  # fmt: skip
    metrics = json.loads((run / "eval" / "test-reach-point-hand" / "results.json").read_text())["metrics"]
    assert metrics["episodes"] == 2 and set(metrics["by_task"]) == {"reach-left", "reach-right"}
    assert metrics["latency"]["env_hz"] == 10 and "report" in result
    expert = _json(capsys, "eval", "--policy", "expert", "--suite", "test-reach", "--embodiment", "point-hand",
                   "--episodes", "4", "--out", str(tmp_path / "expert"))  # fmt: skip
    results = json.loads((tmp_path / "expert" / "results.json").read_text())
    assert results["metrics"]["overall"]["success"] == 1.0 and expert
    assert "Success per task" in (tmp_path / "expert" / "report.html").read_text()
