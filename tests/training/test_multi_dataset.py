"""Several datasets read as one (one per embodiment, or expert data plus relabelled rollouts), one
universal-action policy trained across embodiments, and fine-tuning from a trained policy."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from hivla.configs import get_preset
from hivla.policies import load_policy
from hivla.training import main


@pytest.fixture(scope="module")
def two_bodies(tmp_path_factory) -> tuple[Path, Path]:
    from hivla.data.recorder import CollectConfig, collect

    root = tmp_path_factory.mktemp("bodies")
    paths = []
    for embodiment, episodes in (("floating", 2), ("arm6", 2)):
        out = root / embodiment
        collect(CollectConfig(out=out, embodiment=embodiment, episodes=episodes, image_size=64, max_steps=30,
                              max_failures=30, stats=False))  # fmt: skip
        paths.append(out)
    return paths[0], paths[1]


def _universal(path: str, **train):
    cfg = get_preset("debug")
    return dataclasses.replace(
        cfg,
        policy=dataclasses.replace(cfg.policy, action_space="universal", language_key="subtask"),
        train=dataclasses.replace(cfg.train, threads=1, **train),
        data=dataclasses.replace(cfg.data, path=path, val_fraction=0.34),
    )


def test_datasets_concatenate_with_distinct_episodes(two_bodies) -> None:
    from hivla.training.datasets import ConcatVLADataset, make_dataset

    floating, arm6 = two_bodies
    exp = _universal(f"{floating},{arm6}")
    ds = make_dataset(exp.data, exp.policy)
    assert isinstance(ds, ConcatVLADataset)
    sizes = [len(p) for p in ds.parts]
    assert len(ds) == sum(sizes)
    assert ds[0]["embodiment"] == "floating" and ds[len(ds) - 1]["embodiment"] == "arm6"
    episodes = ds.episode_indices()
    assert sorted(set(episodes)) == [0, 1, 2, 3]  # floating 0, 1; arm6 0, 1 become 2, 3
    states, chunks = ds.fit_arrays("action.universal")
    assert set(states) == {"floating", "arm6"}
    assert sum(len(s) for s in states.values()) == len(ds)
    assert states["floating"].shape[1] != states["arm6"].shape[1]  # each body keeps its state size
    assert {c.shape[1:] for c in chunks.values()} == {(exp.policy.horizon, 7)}
    with pytest.raises(IndexError):
        ds[len(ds)]


def test_one_universal_policy_trains_on_two_embodiments_and_acts_on_both(two_bodies, tmp_path) -> None:
    from hivla.cli.main import main as cli

    floating, arm6 = two_bodies
    out = tmp_path / "both"
    args = ["train", "--preset", "debug", "--data", f"{floating},{arm6}", "--out", str(out), "--threads", "1",
            "--steps", "3", "--action-space", "universal", "--language", "subtask", "--eval-every", "0", "--json"]  # fmt: skip
    assert cli(args) == 0
    policy = load_policy(out)
    assert set(policy.embodiments) == {"floating", "arm6"} and policy.action_space == "universal"
    from hivla.sim import make_env

    for embodiment in ("floating", "arm6"):
        env = make_env("tabletop-single", embodiment, image_size=64)
        obs, _ = env.reset(seed=1_000_000)
        chunk = policy.sample_actions({**obs, "embodiment": embodiment})
        assert chunk.shape == (1, policy.config.horizon, 7) and np.isfinite(chunk).all()
        env.close()


def test_fine_tuning_starts_from_the_trained_policy(two_bodies, tmp_path) -> None:
    floating, arm6 = two_bodies
    first = tmp_path / "first"
    main(_universal(str(floating), steps=3), first, quiet=True)
    tuned = tmp_path / "tuned"
    result = main(
        _universal(str(floating), steps=2, init=str(first), lr=1e-9, warmup_steps=0), tuned, quiet=True
    )
    assert result["step"] == 2
    before, after = load_policy(first), load_policy(tuned)
    assert before.norm_stats == after.norm_stats  # the normalization comes from the initial policy
    a, b = before.weights(), after.weights()
    assert max(float((a[k] - b[k]).abs().max()) for k in a) < 1e-4  # a tiny step from the same weights
    experiment = json.loads((tuned / "experiment.json").read_text())
    assert experiment["train"]["init"] == str(first)
    with pytest.raises(ValueError, match="also holds \\['arm6'\\]"):
        main(_universal(f"{floating},{arm6}", steps=1, init=str(first)), tmp_path / "bad", quiet=True)


def test_bad_paths_and_inits_are_refused(tmp_path) -> None:
    from hivla.cli.train import Config

    with pytest.raises(ValueError, match="empty entry"):
        dataclasses.replace(get_preset("debug").data, path="a,,b")
    with pytest.raises(FileNotFoundError):
        Config(preset="debug", init=str(tmp_path / "nothing"))
