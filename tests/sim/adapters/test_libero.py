"""LIBERO suites: their declarations always; a rollout of the random policy through `hivla eval`
where LIBERO is set up (slow: LIBERO builds its scene for seconds and renders slowly on the CPU)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hivla.sim import get_suite
from hivla.sim.adapters import BenchmarkUnavailableError
from hivla.sim.adapters.libero_suites import PANDA, TASKS, instruction_of
from hivla.sim.adapters.worker import resolve_python


def test_the_four_suites_cover_each_task_and_initial_state_once():
    for name, native in (("libero-spatial", "libero_spatial"), ("libero-object", "libero_object"),
                         ("libero-goal", "libero_goal"), ("libero-10", "libero_10")):  # fmt: skip
        suite = get_suite(name)
        assert [t.name for t in suite.tasks] == list(TASKS[native]) and len(suite.tasks) == 10
        pairs = {(suite.task_for(s).name, (s // 10) % 50) for s in suite.heldout_seeds}
        assert len(pairs) == 500 == len(suite.heldout_seeds)
    assert instruction_of("KITCHEN_SCENE3_turn_on_the_stove_and_put_the_moka_pot_on_it") == (
        "turn on the stove and put the moka pot on it"
    )


def test_panda_universal_mapping_scales_osc_commands():
    native = np.array([1.0, -0.5, 0.2, 0.1, 0.0, -1.0, 1.0])
    u = PANDA.to_universal(native)
    np.testing.assert_allclose(u, [0.05, -0.025, 0.01, 0.05, 0.0, -0.5, 1.0], atol=1e-7)
    np.testing.assert_allclose(PANDA.from_universal(u), native, atol=1e-6)


@pytest.mark.slow
def test_random_policy_through_eval_on_libero(tmp_path, capsys):
    try:
        resolve_python(get_suite("libero-spatial"))
    except BenchmarkUnavailableError as exc:
        pytest.skip(f"LIBERO is not set up here: {exc}")
    from hivla.cli.main import main as cli

    out = tmp_path / "eval"
    assert cli(["eval", "--policy", "random", "--suite", "libero-spatial", "--embodiment", "panda-osc",
                "--episodes", "2", "--max-steps", "15", "--out", str(out), "--videos", "1"]) == 0  # fmt: skip
    results = json.loads((out / "results.json").read_text())
    assert results["metrics"]["episodes"] == 2 and results["metrics"]["overall"]["success"] == 0.0
    assert set(results["metrics"]["by_task"]) == {get_suite("libero-spatial").tasks[i].name for i in (0, 1)}
    assert (out / "report.html").is_file()
