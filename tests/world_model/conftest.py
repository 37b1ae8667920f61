"""Shared fixtures: a few simulator episodes of the fault-injecting expert, and tiny trained models.

Everything is session-scoped and small: 6 single-subtask episodes at 64 px (a few seconds) and
debug-preset models trained for a few seconds each.
"""

import dataclasses

import pytest

from hivla.world_model import WORLD_MODELS, CollectSpec, get_wm_preset
from hivla.world_model.sources import collect_episodes
from hivla.world_model.trainer import event_pos_weight, fit_stats


@pytest.fixture(scope="session")
def episodes():
    """6 episodes of tabletop-single (fault rate 0.3): train on the first 4, hold out 2."""
    return collect_episodes(CollectSpec(suite="tabletop-single", episodes=6, fault_rate=0.3))


@pytest.fixture(scope="session")
def debug_exp():
    return get_wm_preset("debug")


def build_model(kind, episodes, **overrides):
    exp = get_wm_preset("debug", kind)
    cfg = dataclasses.replace(
        exp.model,
        state_dim=int(episodes[0].state.shape[1]),
        action_dim=int(episodes[0].action.shape[1]),
        **overrides,
    )
    return WORLD_MODELS.get(kind)(cfg, fit_stats(episodes), event_pos_weight(episodes))


@pytest.fixture(scope="session")
def trained(episodes, tmp_path_factory):
    """kind -> (run dir, model) of a debug model trained for a few seconds on the first 4 episodes."""
    from hivla.world_model import load_world_model
    from hivla.world_model.trainer import train

    out = {}
    for kind in ("latent", "jepa"):
        exp = get_wm_preset("debug", kind)
        exp = dataclasses.replace(
            exp,
            train=dataclasses.replace(exp.train, steps=80, save_every=40, log_every=20),
            data=dataclasses.replace(exp.data, val_fraction=0.0),
        )
        run = tmp_path_factory.mktemp(f"wm-{kind}")
        train(exp, run, episodes=episodes[:4], quiet=True)
        out[kind] = (run, load_world_model(run))
    return out
