"""The mobile body end to end: collect on tabletop-mobile (10-wide universal actions), train the debug
preset on universal and native actions, evaluate in the simulator; and the clear errors where the
10-wide form meets code that cannot take it (fixed bodies on the mobile suite, mixed widths with a head
that cannot mask the missing base part, the latent action model); fixed and mobile data in one
universal-action run."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from hivla.cli.main import main


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hivla.cli.main", *args], capture_output=True, text=True, timeout=600
    )


@pytest.fixture(scope="module")
def mobile_data(tmp_path_factory):
    out = tmp_path_factory.mktemp("mobile") / "data"
    proc = run_cli(
        "collect", "--suite", "tabletop-mobile", "--embodiment", "mobile", "--episodes", "2",
        "--image-size", "64", "--out", str(out),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


def test_dataset_records_the_base_part(mobile_data):
    features = json.loads((mobile_data / "meta" / "info.json").read_text())["features"]
    universal = features["action.universal"]
    assert universal["shape"] == [10] and universal["names"][7:] == ["base_vx", "base_vy", "base_wz"]
    assert features["action"]["shape"] == [10] and features["observation.state"]["names"][-3:] == [
        "base_x",
        "base_y",
        "base_yaw",
    ]


@pytest.mark.parametrize("space", ["universal", "native"])
def test_collect_train_eval(mobile_data, tmp_path, capsys, space):
    run = tmp_path / f"run_{space}"
    args = ["train", "--preset", "debug", "--data", str(mobile_data), "--out", str(run), "--steps", "2"]
    proc = run_cli(*args, "--threads", "1", "--action-space", space)
    assert proc.returncode == 0, proc.stderr[-3000:]
    policy_cfg = json.loads(next(run.glob("checkpoints/*/policy.json")).read_text())
    assert json.dumps(policy_cfg).count('"action_dim": 10') >= 1
    evals = [
        "eval", "--policy", str(run), "--suite", "tabletop-mobile", "--embodiment", "mobile",
        "--episodes", "1", "--max-steps", "6", "--image-size", "64", "--videos", "0",
        "--out", str(tmp_path / f"eval_{space}"), "--json",
    ]  # fmt: skip
    assert main(evals) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["metrics"]["episodes"] == 1


def test_fixed_body_on_the_mobile_suite_is_refused(tmp_path):
    proc = run_cli(
        "collect", "--suite", "tabletop-mobile", "--embodiment", "arm6", "--out", str(tmp_path / "x")
    )
    assert proc.returncode == 2
    assert "wheeled base" in proc.stderr and "--embodiment mobile" in proc.stderr


def test_mixed_universal_widths_train_together_and_drive_both_kinds(mobile_data, tmp_path, capsys):
    """Fixed (7-wide) and mobile (10-wide) data in one universal-action run: the fixed body's base part
    is padded and masked; the policy outputs 10 values, a fixed body drops the base part."""
    fixed = tmp_path / "floating"
    proc = run_cli(
        "collect", "--episodes", "2", "--image-size", "64", "--out", str(fixed)
    )  # one stays in training
    assert proc.returncode == 0, proc.stderr[-3000:]
    run = tmp_path / "run"
    train = ["train", "--preset", "debug", "--data", f"{mobile_data},{fixed}", "--out", str(run), "--steps", "2",
             "--threads", "1", "--action-space", "universal"]  # fmt: skip
    proc = run_cli(*train)
    assert proc.returncode == 0, proc.stderr[-3000:]
    processor = json.loads(next(run.glob("checkpoints/*/assets/processor.json")).read_text())
    assert processor["action_widths"] == {"floating": 7, "mobile": 10}
    for suite, body in (("tabletop-single", "floating"), ("tabletop-mobile", "mobile")):
        evals = ["eval", "--policy", str(run), "--suite", suite, "--embodiment", body, "--episodes", "1",
                 "--max-steps", "6", "--image-size", "64", "--videos", "0", "--out", str(tmp_path / f"eval_{body}"),
                 "--json"]  # fmt: skip
        assert main(evals) == 0
        assert json.loads(capsys.readouterr().out)["metrics"]["episodes"] == 1
    proc = run_cli(*train[:6], str(tmp_path / "fast"), *train[7:], "--head", "fast")
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert "differ in width" in proc.stderr and "--head flow | diffusion | l1 | bins" in proc.stderr


def test_latent_action_model_refuses_the_base_part(mobile_data):
    from hivla.latent_actions.config import LatentActionConfig
    from hivla.latent_actions.data import FramePairDataset, LatentWidthError

    with pytest.raises(LatentWidthError, match="10 values"):
        FramePairDataset(mobile_data, LatentActionConfig())
