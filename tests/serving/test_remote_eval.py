"""`hivla eval --remote ws://...`: the harness drives the simulator through `hivla serve`; for a
deterministic policy every episode matches the local evaluation on the same seeds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hivla.cli.main import main


def _eval(capsys, *args) -> dict:
    assert main(["eval", *args, "--episodes", "3", "--videos", "0", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def _episodes(out: dict) -> list[tuple]:
    records = json.loads(Path(out["results"]).read_text())["episodes"]
    return [(r["seed"], r["success"], r["steps"], r["completed"], r["failure"]) for r in records]


@pytest.mark.parametrize(
    ("suite", "embodiment"), [("tabletop-single", "floating"), ("tabletop-chain-2", "arm6")]
)
def test_remote_expert_equals_local(tmp_path, capsys, serve, suite, embodiment):
    common = ["--suite", suite, "--embodiment", embodiment]
    local = _eval(capsys, "--policy", "expert", *common, "--out", str(tmp_path / "local"))
    with serve("expert") as server:
        remote = _eval(capsys, "--remote", server.url, *common, "--out", str(tmp_path / "remote"))
    assert _episodes(remote) == _episodes(local)
    assert remote["metrics"]["overall"]["success"] == local["metrics"]["overall"]["success"] > 0
    assert remote["policy"]["name"].startswith("expert@ws://")


def test_remote_hierarchical_plans_and_interjections_equal_local(tmp_path, capsys, serve):
    """A hierarchical policy on the server: its plan comes back with the replies and the interjection
    goes with a request; the records equal a local evaluation's."""
    spec = "hierarchical:low=subtask-expert,planner=oracle,monitor=oracle"
    common = ["--suite", "tabletop-chain-2", "--interject", "15:put the yellow cube in the red bowl"]
    local = _eval(capsys, "--policy", spec, *common, "--out", str(tmp_path / "local"))
    with serve(spec) as server:
        remote = _eval(capsys, "--remote", server.url, *common, "--out", str(tmp_path / "remote"))

    def said(out):
        return [r["interjections"] for r in json.loads(Path(out["results"]).read_text())["episodes"]]

    assert said(remote) == said(local)
    assert all(
        e["delivered"] and e["plan_before"] and e["plan_after"] for events in said(remote) for e in events
    )
    assert _episodes(remote) == _episodes(local)


def test_remote_vla_runs_episodes(debug_run, tmp_path, capsys, serve):
    with serve(str(debug_run)) as server:
        out = _eval(capsys, "--remote", server.url, "--max-steps", "8", "--out", str(tmp_path / "remote"))
    m = out["metrics"]
    assert m["overall"]["episodes"] == 3 and m["latency"]["step_ms"]["median"] > 0


def test_remote_unreachable_says_how_to_start_a_server():
    with pytest.raises(SystemExit, match=r"cannot reach a policy server at ws://127\.0\.0\.1:9.*hivla serve"):
        main(["eval", "--remote", "ws://127.0.0.1:9", "--episodes", "1"])


def test_remote_and_policy_together_are_refused():
    with pytest.raises(SystemExit, match="not both"):
        main(["eval", "--policy", "random", "--remote", "ws://127.0.0.1:9"])
