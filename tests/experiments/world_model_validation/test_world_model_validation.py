"""The world-model validation experiment end to end on fixture episodes and tiny trained models."""

import dataclasses
import json

import numpy as np


def test_experiment_report_on_fixture_episodes(trained, episodes, tmp_path, monkeypatch):
    from hivla.experiments.world_model_validation import run as ex
    from hivla.experiments.world_model_validation.config import EXPERIMENT_PRESETS
    from hivla.experiments.world_model_validation.veto import VetoEvalConfig

    monkeypatch.setattr(
        ex, "probe_episodes", lambda cfg, log, cache=None: {"none": episodes[4:], "lighting=2": episodes[:2]}
    )
    spec = dataclasses.replace(
        EXPERIMENT_PRESETS.get("debug"),
        veto=VetoEvalConfig(suite="tabletop-single", episodes=1, conditions=("lighting=2",)),
    )
    runs = [str(trained["latent"][0]), str(trained["jepa"][0])]
    results = ex.run_experiment(runs, spec, tmp_path / "exp", quiet=True)
    html = (tmp_path / "exp" / "report.html").read_text()
    for plot in ("error-vs-shift-jepa", "error-vs-failure-latent", "veto-violations", "veto-success"):
        assert f'data-plot="{plot}"' in html
    assert "data:image/png;base64" in html
    assert json.loads((tmp_path / "exp" / "results.json").read_text())["version"] == 2
    corr = results["models"][0]["failure_correlation"]
    assert corr["episodes"] == 4 and (corr["spearman"] is None or -1 <= corr["spearman"] <= 1)
    rows = results["veto"]["episodes"]
    assert {r["arm"] for r in rows} == {"policy", "policy+veto"}
    assert rows[1]["interventions"]["wm_checked"] > 0
    assert np.isfinite(results["models"][1]["errors"]["none"]["latent_vs_copy_last"])


def test_cached_episodes_match_on_what_made_them_not_how_they_were_run(episodes, tmp_path):
    from hivla.experiments.world_model_validation.cache import load_cached_episodes, save_episodes

    made = {"suite": "tabletop-chain-2", "episodes": 2, "policy": "expert", "split": "heldout"}
    path = tmp_path / "none.npz"
    save_episodes(path, {**made, "workers": None}, episodes[:2])  # written before backend existed
    again = load_cached_episodes(path, {**made, "workers": 4, "backend": "ray", "address": "auto"})
    assert again is not None and [e.info["seed"] for e in again] == [e.info["seed"] for e in episodes[:2]]
    assert load_cached_episodes(path, {**made, "episodes": 3}) is None  # made another way: not reused
