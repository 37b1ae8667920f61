"""Transforms: round trips, shapes, eval determinism, and no step ever mutates its input."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from hivla.data.stats import FeatureStats, NormStats
from hivla.transforms import (
    ColorJitter,
    Normalize,
    Pipeline,
    RandomCrop,
    Resize,
    Tokenize,
    Transforms,
    Unnormalize,
)


def stats() -> NormStats:
    rng = np.random.default_rng(0)
    return NormStats(
        {
            "action": FeatureStats.of(rng.normal(2.0, 3.0, (500, 4))),
            "observation.state": FeatureStats.of(rng.uniform(-1, 5, (500, 6))),
        }
    )


class CharTokenizer:
    def encode(self, text: str) -> list[int]:
        return [ord(c) - 30 for c in text]

    def decode(self, ids: list[int]) -> str:
        return "".join(chr(i + 30) for i in ids)


def sample(batch: tuple[int, ...] = ()) -> dict:
    g = torch.Generator().manual_seed(0)
    return {
        "observation.images.front": torch.rand(*batch, 2, 3, 24, 32, generator=g),
        "observation.state": torch.randn(*batch, 2, 6, generator=g),
        "action": torch.randn(*batch, 5, 4, generator=g),
        "task": "pick the red cube" if not batch else ["pick it", "open the drawer"],
    }


STEPS = [
    Normalize(stats(), mode="mean_std"),
    Normalize(stats(), mode="quantile", clip=True),
    Unnormalize(stats()),
    Resize(16),
    RandomCrop((20, 20)),
    RandomCrop((20, 20), train=False),
    ColorJitter(),
    Tokenize(CharTokenizer(), max_len=8),
]


@pytest.mark.parametrize("step", STEPS, ids=lambda s: type(s).__name__)
def test_steps_never_mutate_their_input(step):
    data = sample()
    before = copy.deepcopy(data)
    out = step(data)
    assert out is not data
    assert data.keys() == before.keys()
    for k, v in before.items():
        if isinstance(v, torch.Tensor):
            assert torch.equal(data[k], v), f"{type(step).__name__} changed {k} in place"
        else:
            assert data[k] == v


@pytest.mark.parametrize("mode", ["mean_std", "quantile"])
def test_normalize_round_trip_torch_and_numpy(mode):
    s = stats()
    data = sample()
    norm = Normalize(s, mode=mode)(data)
    back = Unnormalize(s, keys=("action", "observation.state"), mode=mode)(norm)
    for k in ("action", "observation.state"):
        torch.testing.assert_close(back[k], data[k], atol=1e-4, rtol=1e-4)
    x = np.random.default_rng(1).normal(2.0, 3.0, (100, 4)).astype(np.float32)
    y = Normalize(s, keys=("action",), mode=mode)({"action": x})["action"]
    assert isinstance(y, np.ndarray) and y.dtype == np.float32
    if mode == "mean_std":
        assert abs(y.mean()) < 0.5 and 0.6 < y.std() < 1.4
    else:
        assert np.mean(np.abs(y) <= 1.0) > 0.95  # q01..q99 maps into [-1, 1]


def test_quantile_maps_q01_q99_to_minus_one_one():
    s = stats()
    a = s["action"]
    x = torch.tensor(np.stack([a.q01, a.q99]), dtype=torch.float32)
    y = Normalize(s, keys=("action",), mode="quantile")({"action": x})["action"]
    torch.testing.assert_close(y, torch.tensor([[-1.0] * 4, [1.0] * 4]), atol=1e-4, rtol=0)


def test_normalize_errors_are_clear():
    with pytest.raises(ValueError, match="mode must be one of"):
        Normalize(stats(), mode="minmax")
    with pytest.raises(KeyError, match="no statistics for \\['reward'\\]"):
        Normalize(stats(), keys=("reward",))
    with pytest.raises(KeyError, match="Unnormalize: keys \\['action'\\] are missing"):
        Unnormalize(stats())({"observation.state": torch.zeros(6)})


def test_image_steps_shapes_and_eval_determinism():
    data = sample(batch=(2,))
    assert Resize((12, 16))(data)["observation.images.front"].shape == (2, 2, 3, 12, 16)
    crop = RandomCrop(20)
    assert crop(data)["observation.images.front"].shape == (2, 2, 3, 20, 20)
    pipe = Pipeline((crop, ColorJitter(brightness=0.5), Resize(16)))
    serve = pipe.eval()
    a, b = serve(data), serve(data)
    torch.testing.assert_close(a["observation.images.front"], b["observation.images.front"])
    centre = data["observation.images.front"][..., 2:22, 6:26]
    torch.testing.assert_close(RandomCrop(20, train=False)(data)["observation.images.front"], centre)
    jittered = ColorJitter(0.9, 0.9, 0.9)(data)["observation.images.front"]
    assert float(jittered.min()) >= 0.0 and float(jittered.max()) <= 1.0
    with pytest.raises(ValueError, match="larger than the image"):
        RandomCrop(40)(data)
    with pytest.raises(TypeError, match="expected a float tensor"):
        Resize(8)({"observation.images.front": torch.zeros(3, 8, 8, dtype=torch.uint8)})


def test_tokenize_single_batched_and_hf_style():
    tok = Tokenize(CharTokenizer(), max_len=6, pad_id=0)
    out = tok(sample())
    assert out["task_tokens"].shape == (6,) and bool(out["task_tokens_mask"].all())
    assert tok.decode(out["task_tokens"], out["task_tokens_mask"]) == "pick t"
    out = tok(sample(batch=(2,)))
    assert out["task_tokens"].shape == (2, 6)
    assert out["task_tokens_mask"][0].tolist() == [True] * 6

    class Encoding:
        def __init__(self, ids):
            self.ids = ids

    class HFLike(CharTokenizer):
        def encode(self, text):
            return Encoding(super().encode(text))

    short = Tokenize(HFLike(), max_len=10)({"task": "abc"})
    assert short["task_tokens"][:3].tolist() == [67, 68, 69] and short["task_tokens_mask"].sum() == 3
    with pytest.raises(TypeError, match="encode"):
        Tokenize(object())


def test_transforms_group_eval_keeps_order():
    group = Transforms(
        inputs=Pipeline((Normalize(stats()), RandomCrop(20), Resize(16))),
        outputs=Pipeline((Unnormalize(stats()),)),
    )
    serve = group.eval()
    assert [type(s) for s in serve.inputs.steps] == [type(s) for s in group.inputs.steps]
    assert serve.inputs.steps[1].train is False and group.inputs.steps[1].train is True
    model_out = {"action": torch.zeros(5, 4)}
    torch.testing.assert_close(
        serve.outputs(model_out)["action"][0],
        torch.tensor(stats()["action"].mean, dtype=torch.float32),
        atol=1e-5,
        rtol=0,
    )


@pytest.mark.parametrize("as_tensor", [False, True])
def test_the_one_normalizer_round_trips_numpy_and_torch(as_tensor):
    from hivla.transforms.normalize import from_unit_range, standardize, to_unit_range, unstandardize

    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 3)).astype(np.float32)
    mean, std = np.array([0.5, -1.0, 2.0], np.float32), np.array([2.0, 0.5, 1.0], np.float32)
    low, high = np.array([-2.0, -1.0, 0.0], np.float32), np.array([2.0, 3.0, 1.0], np.float32)
    data = torch.from_numpy(x) if as_tensor else x
    z = standardize(data, mean, std)
    assert type(z) is type(data)
    np.testing.assert_allclose(np.asarray(z), (x - mean) / std, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(unstandardize(z, mean, std)), x, rtol=1e-5, atol=1e-6)
    u = to_unit_range(data, low, high)
    np.testing.assert_allclose(np.asarray(to_unit_range(low, low, high)), -1.0)
    np.testing.assert_allclose(np.asarray(to_unit_range(high, low, high)), 1.0)
    np.testing.assert_allclose(np.asarray(from_unit_range(u, low, high)), x, rtol=1e-5, atol=1e-6)
