"""The benchmark adapter interface: what an external suite declares so hivla's harness can run it.

An external suite (:class:`ExternalSuite`) names its tasks and their instructions, the cameras it
renders (as hivla's ``front``/``wrist``), its robot (:class:`RobotSpec`: the native action space and,
where one exists, the mapping to and from the universal action), its train and held-out seeds, and
the backend file that drives the benchmark's own simulator. The backend runs in this interpreter when
the benchmark's package imports here, else in an env worker process of another interpreter
(``worker_server.py``); :class:`hivla.sim.adapters.env.ExternalEnv` presents either as a hivla env.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from hivla.errors import HivlaError
from hivla.registry import Registry
from hivla.sim.suites import SeedSplit

BACKENDS_DIR = Path(__file__).resolve().parent / "backends"


class BenchmarkUnavailableError(HivlaError, RuntimeError):
    """The benchmark's package is not importable here and no interpreter for it is set up."""


class Backend(Protocol):
    """What a backend file's ``make(**options)`` returns (in process or behind the env worker).

    Observations are dicts ``{"images": {native camera: uint8[H, W, 3]}, "state": float32[S],
    "privileged": float32[P]}``; images are already the right way up.
    """

    def reset(self, task: str, seed: int) -> dict[str, Any]: ...  # {"obs": ..., "success": bool}
    def step(self, action: np.ndarray) -> dict[str, Any]: ...  # {"obs", "reward", "success"}
    def expert(self) -> np.ndarray: ...  # the scripted policy's native action for the current state
    def info(self) -> dict[str, Any]: ...  # versions of the benchmark's packages
    def close(self) -> None: ...


@dataclass(frozen=True)
class RobotSpec:
    """An external benchmark's robot: its native action space and state, and the universal mapping.

    ``to_universal(native float[A]) -> float32[7]`` and ``from_universal(float32[7]) -> float[A]``
    are None when no mapping exists (then only native-action policies drive it).
    """

    name: str
    description: str
    action_names: tuple[str, ...]
    action_low: tuple[float, ...]
    action_high: tuple[float, ...]
    state_names: tuple[str, ...]
    to_universal_fn: Callable[[np.ndarray], np.ndarray] | None = None
    from_universal_fn: Callable[[np.ndarray], np.ndarray] | None = None

    def __post_init__(self) -> None:
        if not len(self.action_names) == len(self.action_low) == len(self.action_high):
            raise ValueError(f"robot {self.name}: action names, low and high must have the same length")
        if (self.to_universal_fn is None) != (self.from_universal_fn is None):
            raise ValueError(f"robot {self.name}: give both universal mappings or neither")

    @property
    def action_dim(self) -> int:
        return len(self.action_names)

    @property
    def state_dim(self) -> int:
        return len(self.state_names)

    has_base = False  # an external benchmark's robot is a fixed arm: it drops a universal base part

    @property
    def has_universal(self) -> bool:
        return self.to_universal_fn is not None

    def clip(self, native: np.ndarray) -> np.ndarray:
        return np.clip(native, self.action_low, self.action_high)

    def to_universal(self, native: np.ndarray) -> np.ndarray:
        if self.to_universal_fn is None:
            raise HivlaError(
                f"robot {self.name!r} has no mapping to the universal action; train on its native "
                "actions (`hivla train --data-keys action=action`)"
            )
        return np.asarray(self.to_universal_fn(np.asarray(native, np.float64)), np.float32)

    def from_universal(self, universal: np.ndarray) -> np.ndarray:
        if self.from_universal_fn is None:
            raise HivlaError(
                f"robot {self.name!r} has no mapping from the universal action; a universal-action "
                "policy cannot drive it. Evaluate a policy trained on its native actions."
            )
        return np.asarray(self.from_universal_fn(np.asarray(universal, np.float64)), np.float64)


@dataclass(frozen=True)
class ExternalTask:
    """One task of an external suite: the benchmark's own name and its instruction."""

    name: str
    instruction: str


@dataclass(frozen=True)
class ExternalSuite(SeedSplit):
    """An external benchmark suite (see the module docstring).

    ``cameras`` maps hivla camera names to the benchmark's (``{"front": "corner", ...}``). Seed
    ``s`` runs task ``tasks[s % len(tasks)]`` with the benchmark's randomisation seeded by ``s``;
    held-out seeds are disjoint from the training ones. ``backend`` is a file in ``backends/``
    defining ``make(**options)``; ``package`` the pip requirement(s) an interpreter needs for it,
    ``import_name`` the module whose presence means the backend can run in this interpreter.
    """

    name: str
    version: str
    benchmark: str
    tasks: tuple[ExternalTask, ...]
    robot: RobotSpec
    cameras: tuple[tuple[str, str], ...]
    backend: str
    package: tuple[str, ...]
    import_name: str
    seed_base: int
    max_steps: int
    fps: int
    scripted: bool = False
    n_train: int = 10_000
    n_heldout: int = 500
    description: str = ""
    options: tuple[tuple[str, Any], ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if not self.tasks:
            raise ValueError(f"suite {self.name}: an external suite needs at least one task")
        if not self.cameras:
            raise ValueError(f"suite {self.name}: an external suite needs at least one camera")
        if self.max_steps < 1 or self.fps < 1:
            raise ValueError(f"suite {self.name}: max_steps and fps must be >= 1")
        if not (BACKENDS_DIR / self.backend).is_file() and not Path(self.backend).is_file():
            raise ValueError(f"suite {self.name}: backend file {self.backend} not found")

    @property
    def chain_lengths(self) -> tuple[int, ...]:
        return (1,)  # one task per episode

    @property
    def embodiment(self) -> str:
        return self.robot.name

    @property
    def camera_names(self) -> tuple[str, ...]:
        return tuple(c for c, _ in self.cameras)

    def task_for(self, seed: int) -> ExternalTask:
        return self.tasks[int(seed) % len(self.tasks)]

    @property
    def backend_path(self) -> Path:
        path = BACKENDS_DIR / self.backend
        return path if path.is_file() else Path(self.backend)


EXTERNAL_SUITES: Registry[ExternalSuite] = Registry("external suite")


def register_suite(suite: ExternalSuite) -> ExternalSuite:
    """Add ``suite`` to :data:`EXTERNAL_SUITES` (so to ``hivla sim list``) and to gymnasium."""
    EXTERNAL_SUITES.add(suite.name, suite)
    register_gym_id(suite.name, suite.version)
    return suite


def register_gym_id(suite: str, version: str) -> str:
    """Register ``hivla/<suite>-v<version>`` with gymnasium (once); return the id."""
    import gymnasium as gym

    env_id = f"hivla/{suite}-v{version}"
    if env_id not in gym.registry:
        gym.register(
            id=env_id,
            entry_point="hivla.sim.benchmarks:GymEnv",
            kwargs={"suite": suite},
            disable_env_checker=True,  # render=False gives empty images; the contract tests check the envs
        )
    return env_id
