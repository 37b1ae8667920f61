"""A DAgger run on the debug preset: round 0 trains on expert data, round 1 rolls the policy out,
records the expert's labels as new episodes (source dagger-1), fine-tunes and evaluates; a killed
run resumes in the phase it stopped in."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hivla.training.dagger import DaggerConfig, DaggerRun, RelabelRecorder


@pytest.fixture(scope="module")
def expert_data(tmp_path_factory) -> Path:
    from hivla.data.recorder import CollectConfig, collect

    out = tmp_path_factory.mktemp("dagger") / "expert"
    collect(CollectConfig(out=out, episodes=3, image_size=64, max_steps=25, max_failures=30))
    return out


def _config(data: Path, out: Path, **kw) -> DaggerConfig:
    base = dict(out=out, data=str(data), preset="debug", rounds=1, episodes=2, suite="tabletop-single",
                eval_suite="tabletop-single", eval_episodes=1, workers=1, threads=1, round0_steps=3, steps=2,
                beta=0.5)  # fmt: skip
    return DaggerConfig(**{**base, **kw})


def test_a_round_writes_labelled_episodes_and_resumes_after_a_kill(
    expert_data, tmp_path, monkeypatch
) -> None:
    from hivla.data import ChunkDataset, DatasetMeta, LoaderConfig

    out = tmp_path / "run"
    calls = {"n": 0}
    real_call = RelabelRecorder.__call__

    def killed_on_the_second(self, seed):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt  # the job is killed while the second rollout runs
        return real_call(self, seed)

    monkeypatch.setattr(RelabelRecorder, "__call__", killed_on_the_second)
    with pytest.raises(KeyboardInterrupt):
        DaggerRun(_config(expert_data, out), say=lambda _: None, quiet=True).run()
    state = json.loads((out / "dagger.json").read_text())
    assert "policy" in state["rounds"][0] and "eval" in state["rounds"][0]  # round 0 finished
    assert "data" not in state["rounds"][1]  # round 1 stopped while collecting
    with pytest.raises(FileExistsError, match="--resume"):
        DaggerRun(_config(expert_data, out), quiet=True)
    with pytest.raises(ValueError, match="episodes"):
        DaggerRun(_config(expert_data, out, resume=True, episodes=3), quiet=True)

    monkeypatch.setattr(RelabelRecorder, "__call__", real_call)
    result = DaggerRun(_config(expert_data, out, resume=True), say=lambda _: None, quiet=True).run()
    rounds = result["rounds"]
    assert [r["round"] for r in rounds] == [0, 1] and rounds[1]["beta"] == 0.5
    assert set(rounds[1]["eval"]) == {"floating"} and 0.0 <= rounds[1]["eval"]["floating"]["success"] <= 1.0

    episodes = DatasetMeta.load(rounds[1]["data"][0]).episodes
    assert len(episodes) == 2  # one from before the kill, one after
    assert {e["hivla/source"] for e in episodes} == {"dagger-1"}
    assert all(e["hivla/policy"] == str(out / "round_0" / "policy") for e in episodes)
    from hivla.cli.data_info import Config as InfoConfig
    from hivla.cli.data_info import run as info

    assert info(InfoConfig(Path(rounds[1]["data"][0])), quiet=True)["by_source"] == {"dagger-1": 2}
    assert info(InfoConfig(expert_data), quiet=True)["by_source"] == {"expert": 3}
    frames = ChunkDataset(rounds[1]["data"][0], LoaderConfig(horizon=1)).frames.columns
    assert np.isfinite(np.asarray(frames["action"], np.float32)).all()
    assert all(
        s and r.startswith("subtask:") for s, r in zip(frames["subtask"], frames["reasoning"], strict=True)
    )

    experiment = json.loads((out / "round_1" / "policy" / "experiment.json").read_text())
    assert experiment["train"]["init"] == str(out / "round_0" / "policy")  # fine-tuned, not retrained
    assert experiment["data"]["path"] == f"{expert_data},{rounds[1]['data'][0]}"
    summary = (out / "summary.md").read_text()
    assert "| 1 | 0.50 | 2 x 1 | floating |" in summary
    assert (out / "success_by_round.svg").read_text().startswith("<")


def test_cli_runs_dagger_end_to_end(expert_data, tmp_path) -> None:
    from hivla.cli.main import main as cli

    out = tmp_path / "cli"
    args = ["dagger", "--data", str(expert_data), "--out", str(out), "--preset", "debug", "--rounds", "1",
            "--episodes", "1", "--suite", "tabletop-single", "--eval-suite", "tabletop-single",
            "--eval-episodes", "1", "--workers", "1", "--threads", "1", "--round0-steps", "2", "--steps", "2",
            "--beta", "0", "--json"]  # fmt: skip
    assert cli(args) == 0
    state = json.loads((out / "dagger.json").read_text())
    assert len(state["rounds"]) == 2 and state["rounds"][1]["beta"] == 0.0


def test_bad_settings_are_refused(tmp_path) -> None:
    with pytest.raises(ValueError, match="beta"):
        _config(tmp_path, tmp_path / "x", beta=1.5)
    with pytest.raises(ValueError, match="episodes"):
        _config(tmp_path, tmp_path / "x", episodes=0)
    with pytest.raises(ValueError, match="--data"):
        DaggerConfig(out=tmp_path / "x", data="")
