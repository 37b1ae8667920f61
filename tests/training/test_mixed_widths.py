"""The trainer's side of universal actions of mixed widths: which runs pad (and which heads refuse),
the NaN padding the statistics skip, and a single-width run left exactly as it was."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from hivla.configs import get_preset
from hivla.training import main
from hivla.training.datasets import UniversalWidthError, check_universal_widths
from hivla.training.trainer import fit_data, pad_dims


class _Arrays:
    """A dataset reduced to its fit arrays (what ``fit_data`` reads)."""

    def __init__(self, states, chunks):
        self.states, self.chunks = states, chunks

    def __len__(self):
        return sum(len(s) for s in self.states.values())

    def fit_arrays(self, action_key):
        return self.states, self.chunks


def test_mixed_widths_pad_with_a_masking_head_and_refuse_the_others():
    assert check_universal_widths({"a": 7, "b": 7}, "datasets", "fast") is False  # one width: nothing to do
    assert check_universal_widths({"a": 7, "b": 10}, "datasets", "flow") is True
    with pytest.raises(
        UniversalWidthError, match=r"differ in width.*'fast' head cannot.*flow \| diffusion \| l1 \| bins"
    ):
        check_universal_widths({"a": 7, "b": 10}, "embodiments", "fast")


def test_fit_data_pads_the_narrow_chunks_with_nan():
    rng = np.random.default_rng(0)
    states = {"floating": rng.normal(size=(6, 14)), "mobile": rng.normal(size=(4, 19))}
    chunks = {"floating": rng.normal(size=(6, 3, 7)), "mobile": rng.normal(size=(4, 3, 10))}
    cfg = dataclasses.replace(get_preset("debug").policy, action_space="universal", horizon=3)
    fit = fit_data(_Arrays(states, chunks), cfg, list(range(10)))
    universal = fit.chunks["universal"]
    assert universal.shape == (10, 3, 10) and fit.action_widths == {"floating": 7, "mobile": 10}
    assert np.isnan(universal[:6, :, 7:]).all() and not np.isnan(universal[6:]).any()
    assert np.array_equal(pad_dims(chunks["floating"], 10)[..., :7], chunks["floating"].astype(np.float32))
    one = fit_data(
        _Arrays({"floating": states["floating"]}, {"floating": chunks["floating"]}), cfg, list(range(6))
    )
    assert one.action_widths == {} and one.chunks["universal"].shape == (6, 3, 7)


def test_a_single_width_run_is_unchanged(tmp_path):
    """The debug preset on synthetic 7-wide universal data, 3 steps: the same losses as before mixed
    widths existed (measured at commit 5e5c472; regenerate with this very run if the preset changes)."""
    cfg = get_preset("debug")
    cfg = dataclasses.replace(cfg, policy=dataclasses.replace(cfg.policy, action_space="universal"),
                              train=dataclasses.replace(cfg.train, threads=1, steps=3, eval_every=0))  # fmt: skip
    result = main(cfg, tmp_path / "run", quiet=True)
    assert result["final_loss"] == pytest.approx(1.8270198106765747, rel=1e-5)
    assert result["val"]["val/loss"] == pytest.approx(1.589289665222168, rel=1e-5)


def test_cached_features_keep_bodies_of_different_widths():
    """The frozen-encoder cache stacks batches of one body at a time: states and universal actions of
    different widths are zero-padded to the widest (as the collate function pads within a batch)."""
    import torch

    from hivla.training.features import compute_cache

    class Frozen(torch.nn.Module):
        def encode_frozen(self, batch):
            return {"features.vision": torch.zeros(len(batch["task"]), 2, 4)}

    samples = [
        {"observation.state": torch.ones(1, n), "action.universal": torch.ones(3, a), "task": "t"}
        for n, a in ((14, 7), (19, 10))
    ]
    cache = compute_cache(Frozen(), samples, batch_size=1)
    assert cache[0]["action.universal"].shape == (3, 10) and cache[0]["observation.state"].shape == (1, 19)
    assert cache[0]["action.universal"][:, 7:].abs().sum() == 0 and cache[1]["action.universal"].sum() == 30
