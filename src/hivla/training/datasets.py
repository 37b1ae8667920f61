"""Which dataset ``hivla train`` reads: a recorded dataset directory, or synthetic frames."""

from __future__ import annotations

from typing import Any

from hivla.configs.presets import DataConfig
from hivla.policies.vla.configuration_vla import VLAConfig
from hivla.training.data import SyntheticSpec, SyntheticVLADataset


def make_dataset(data: DataConfig, policy: VLAConfig) -> Any:
    """``data.path`` empty: :class:`SyntheticVLADataset` shaped for ``policy``; else the recorded dataset."""
    if not data.path:
        embodiments = ("floating", "arm6", "arm5") if policy.action_space == "universal" else ("floating",)
        spec = SyntheticSpec(
            size=data.synthetic_size, image_size=policy.image_size, horizon=policy.horizon,
            cameras=tuple(policy.cameras), embodiments=embodiments,
        )  # fmt: skip
        return SyntheticVLADataset(spec)
    return load_recorded(data.path, policy)


def load_recorded(path: str, policy: VLAConfig) -> Any:
    """A dataset recorded by ``hivla collect`` (``hivla.data``), with chunks of ``policy.horizon``."""
    try:
        import hivla.data as hdata  # noqa: F401
    except ImportError as err:
        raise ImportError(
            f"reading {path} needs the dataset layer hivla.data, which is not available in this install"
        ) from err
    raise NotImplementedError("the hivla.data loader is not wired yet; train on synthetic data (no --data)")
