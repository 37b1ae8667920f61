"""`hivla eval` and `hivla report` end to end: built-in policies, a real debug checkpoint from
`hivla train --preset debug`, the embodiment-mismatch error, and a side-by-side comparison."""

import json
import subprocess
import sys

import pytest

from hivla.cli.main import main


def _train(out, *extra):
    proc = subprocess.run(
        [sys.executable, "-m", "hivla.cli.main", "train", "--preset", "debug", "--steps", "2", "--out", str(out), *extra],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def floating_run(tmp_path_factory):
    """A native-action VLA checkpoint trained for two steps on the floating hand (synthetic frames)."""
    return _train(tmp_path_factory.mktemp("runs") / "floating")


def _eval_json(capsys, *args):
    assert main(["eval", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_eval_builtin_writes_results_and_report(tmp_path, capsys):
    out = _eval_json(
        capsys,
        "--policy",
        "expert",
        "--episodes",
        "2",
        "--image-size",
        "64",
        "--videos",
        "1",
        "--out",
        str(tmp_path),
    )
    assert out["metrics"]["overall"]["success"] == 1.0 and out["metrics"]["episodes"] == 2
    assert (tmp_path / "results.json").is_file() and (tmp_path / "report.html").is_file()
    assert "data:video/mp4;base64," in (tmp_path / "report.html").read_text()


def test_eval_all_shifts_prints_the_robustness_table(tmp_path, capsys):
    out = _eval_json(
        capsys, "--policy", "expert", "--episodes", "1", "--shift", "all=1", "--image-size", "64",
        "--videos", "0", "--out", str(tmp_path),
    )  # fmt: skip
    robust = out["metrics"]["robustness"]
    assert out["metrics"]["episodes"] == 1 + len(robust["axes"]) and len(robust["axes"]) >= 8
    assert all(set(levels) == {"1"} for levels in robust["axes"].values())
    assert robust["baseline"]["successes"] == 1  # the expert solves the single-subtask seed
    assert 'data-plot="robustness"' in (tmp_path / "report.html").read_text()
    assert main(["report", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "Success relative to no shift" in printed and "level 1" in printed and "lighting" in printed


def test_report_compares_runs(tmp_path, capsys):
    for name, policy in (("a", "expert"), ("b", "random")):
        _eval_json(capsys, "--policy", policy, "--episodes", "1", "--videos", "0", "--max-steps", "10",
                   "--out", str(tmp_path / name))  # fmt: skip
    assert (
        main(["report", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(tmp_path / "cmp"), "--json"])
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    html = (tmp_path / "cmp" / "report.html").read_text()
    assert out["report"].endswith("report.html") and 'data-plot="compare-success-by-chain-length"' in html


def test_eval_unknown_policy_is_a_clear_error():
    with pytest.raises(SystemExit, match=r"unknown policy 'expret'.*expert, random"):
        main(["eval", "--policy", "expret"])


def test_eval_checkpoint_end_to_end(floating_run, tmp_path, capsys):
    out = _eval_json(
        capsys, "--policy", str(floating_run), "--episodes", "1", "--max-steps", "8", "--videos", "1",
        "--out", str(tmp_path),
    )  # fmt: skip
    assert out["policy"]["action_space"] == "native" and out["policy"]["embodiments"] == ["floating"]
    assert out["metrics"]["episodes"] == 1 and out["metrics"]["latency"]["query_ms"]["n"] >= 2  # chunks of 4
    assert out["config"]["image_size"] == 64  # the policy's 32 px, raised to the env's minimum
    assert "data:video/mp4;base64," in (tmp_path / "report.html").read_text()


def test_eval_checkpoint_on_an_embodiment_it_cannot_drive(floating_run):
    with pytest.raises(SystemExit) as err:
        main(["eval", "--policy", str(floating_run), "--embodiment", "arm6", "--episodes", "1"])
    msg = str(err.value)
    assert "cannot drive embodiment 'arm6'" in msg and "--embodiment floating" in msg and "universal" in msg


@pytest.mark.slow
def test_universal_checkpoint_drives_another_embodiment(tmp_path, capsys):
    run = _train(tmp_path / "universal", "--action-space", "universal")
    out = _eval_json(capsys, "--policy", str(run), "--embodiment", "arm5", "--episodes", "1", "--max-steps", "8",
                     "--videos", "0", "--out", str(tmp_path / "eval"))  # fmt: skip
    assert out["policy"]["action_space"] == "universal" and out["metrics"]["episodes"] == 1


def test_eval_hierarchical_spec_with_an_interjection(tmp_path, capsys):
    out = _eval_json(
        capsys, "--policy", "hierarchical:low=subtask-expert,planner=oracle,monitor=oracle", "--suite",
        "tabletop-chain-2", "--episodes", "1", "--videos", "0", "--interject", "15:press the button",
        "--out", str(tmp_path / "h"),
    )  # fmt: skip
    assert out["config"]["interjections"] == ["15:press the button"]
    episode = json.loads((tmp_path / "h" / "results.json").read_text())["episodes"][0]
    event = episode["interjections"][0]
    assert (
        event["step"] == 15 and event["delivered"] and event["plan_changed"] is False
    )  # the oracle replans the env's task
    assert (
        "interjection at step 15: “press the button” (plan unchanged)"
        in (tmp_path / "h" / "report.html").read_text()
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--policy", "expert", "--interject", "3:open the drawer"], "'expert' cannot take interjections"),
        (["--interject", "soon:open the drawer"], "is not STEP:TEXT"),
        (["--policy", "hierarchical:planner=oracle"], r"low=\.\.\. \(the low-level policy\) is required"),
    ],
)
def test_eval_refuses_bad_interjections_and_specs(args, message):
    with pytest.raises(SystemExit, match=message):
        main(["eval", "--episodes", "1", "--videos", "0", *args])
