"""An external benchmark suite as a hivla env (gymnasium API, the same observation and info keys).

The harness, the recorder and the trainer read an external env as they read the built-in one: an
observation ``{"images": {camera: uint8[H, W, 3]}, "state": float32[S], "instruction": str}``, an
info with the instruction, one "subtask" (the task), ``success`` and ``progress``, and the native
action space of the suite's robot with its universal mapping where one exists. Each episode is one
task; success is the benchmark's own success signal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

from hivla.errors import HivlaError
from hivla.sim.adapters.base import EXTERNAL_SUITES, ExternalSuite, ExternalTask, RobotSpec
from hivla.sim.adapters.worker import open_backend
from hivla.sim.universal_actions import UniversalActions
from hivla.types import Subtask


class ExternalEnvError(HivlaError, ValueError):
    """A bad option for an external suite."""


@dataclass(frozen=True)
class ExternalEpisode:
    """What ``env.spec`` holds for an external episode (the built-in env's ``EpisodeSpec`` keys the
    harness reads)."""

    seed: int
    task: ExternalTask
    instruction: str
    subtasks: tuple[Subtask, ...]


class ExternalEnv(UniversalActions, gym.Env):
    """One external suite's env; see the module docstring.

    Args:
        suite: a registered external suite (``hivla sim list``).
        embodiment: must be the suite's robot (or None for it).
        image_size: square images, 64..224 px.
        render: False skips rendering (empty images).
        max_steps: step limit (default: the suite's).
        cameras: hivla camera names to render (default: all the suite has).
        sensors: must be empty (the built-in suites' sensors, :mod:`hivla.sim.sensors`).
    """

    metadata = {"render_modes": ["rgb_array"]}  # noqa: RUF012

    def __init__(
        self,
        suite: str,
        embodiment: str | None = None,
        image_size: int = 128,
        shifts: dict[str, int] | list[str] | None = None,
        render: bool = True,
        depth: bool = False,
        max_steps: int | None = None,
        cameras: tuple[str, ...] | None = None,
        sensors: tuple[str, ...] | str | None = (),
    ) -> None:
        self.suite: ExternalSuite = EXTERNAL_SUITES.get(suite)
        robot = self.suite.robot
        if embodiment is not None and embodiment != robot.name:
            raise ExternalEnvError(
                f"suite {suite} runs its own robot {robot.name!r}, not embodiment {embodiment!r}; "
                f"pass --embodiment {robot.name}"
            )
        if shifts:
            raise ExternalEnvError(
                f"suite {suite} is an external benchmark and takes no hivla shifts, got {shifts}; drop --shift"
            )
        if depth:
            raise ExternalEnvError(f"suite {suite} renders no depth images; drop depth=True")
        if sensors:
            raise ExternalEnvError(
                f"suite {suite} is an external benchmark and has no hivla sensors, got {sensors}; drop --sensors"
            )
        if not 64 <= image_size <= 224:
            raise ExternalEnvError(f"image_size must be within 64..224 px, got {image_size}")
        available = dict(self.suite.cameras)
        cameras = tuple(cameras) if cameras is not None else self.suite.camera_names
        unknown = [c for c in cameras if c not in available]
        if unknown:
            raise ExternalEnvError(
                f"suite {suite} has no camera(s) {unknown}; it has {list(available)} (as hivla names)"
            )
        if max_steps is not None and max_steps < 1:
            raise ExternalEnvError(f"max_steps must be >= 1 or None, got {max_steps}")
        self.embodiment: RobotSpec = robot
        self.cameras, self.image_size, self.render_images = cameras, image_size, render
        self.native_cameras = {c: available[c] for c in cameras}
        self.fps = self.suite.fps
        self.shifts: dict[str, int] = {}
        self.max_steps_override = max_steps
        self.action_space = gym.spaces.Box(
            np.asarray(robot.action_low, np.float32),
            np.asarray(robot.action_high, np.float32),
            dtype=np.float32,
        )
        img = gym.spaces.Box(0, 255, (image_size, image_size, 3), dtype=np.uint8)
        self.observation_space = gym.spaces.Dict(
            {
                "images": gym.spaces.Dict({c: img for c in cameras}),
                "state": gym.spaces.Box(-np.inf, np.inf, (robot.state_dim,), dtype=np.float32),
                "instruction": gym.spaces.Text(max_length=512),
            }
        )
        options = {
            **dict(self.suite.options),
            "suite": self.suite.name,
            "image_size": image_size,
            "cameras": sorted(set(self.native_cameras.values())) if render else [],
        }
        self.backend = open_backend(self.suite, options)
        self.spec_: ExternalEpisode | None = None
        self._obs: dict[str, Any] = {}
        self.steps, self.success, self.reward_sum = 0, False, 0.0

    # ---- episode -------------------------------------------------------------------------------
    @property
    def spec(self) -> ExternalEpisode:  # type: ignore[override]
        if self.spec_ is None:
            raise RuntimeError("call reset(seed=...) before using the env")
        return self.spec_

    @property
    def max_steps(self) -> int:
        return self.max_steps_override or self.suite.max_steps

    @property
    def where(self) -> str:
        """Where the benchmark runs: in process, or which env worker."""
        return self.backend.where

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        if seed is None:
            seed = int(self.np_random.integers(2**31))
        task = self.suite.task_for(seed)
        out = self.backend.call("reset", task=task.name, seed=int(seed))
        sub = Subtask(kind=task.name, text=task.instruction)
        self.spec_ = ExternalEpisode(int(seed), task, task.instruction, (sub,))
        self._obs = out["obs"]
        self.steps, self.success, self.reward_sum = 0, bool(out.get("success", False)), 0.0
        return self.observation(), self._info()

    def step(self, action: np.ndarray):
        native = self._validate(action)
        out = self.backend.call("step", action=native)
        self._obs = out["obs"]
        self.steps += 1
        reward = float(out["reward"])
        self.reward_sum += reward
        self.success = self.success or bool(out["success"])
        truncated = self.steps >= self.max_steps and not self.success
        return self.observation(), reward, self.success, truncated, self._info()

    def _validate(self, action: np.ndarray) -> np.ndarray:
        a = np.asarray(action, dtype=np.float64)
        robot = self.embodiment
        if a.shape != (robot.action_dim,):
            raise ValueError(
                f"{robot.name} expects a native action of shape ({robot.action_dim},) "
                f"[{', '.join(robot.action_names)}], got shape {a.shape}"
            )
        if not np.all(np.isfinite(a)):
            raise ValueError(f"action contains NaN or inf: {a.tolist()}; expected finite values")
        return robot.clip(a)

    def scripted_action(self) -> np.ndarray:
        """The benchmark's scripted policy's native action for the current state."""
        if not self.suite.scripted:
            raise ExternalEnvError(
                f"suite {self.suite.name} has no scripted policy; roll out another policy (e.g. --policy random)"
            )
        return np.asarray(self.backend.call("expert"), np.float32)

    def subtask_done(self, sub: Subtask) -> bool:
        """Whether the episode's one task holds (the benchmark's success signal)."""
        return self.success

    # ---- observations --------------------------------------------------------------------------
    def observation(self) -> dict[str, Any]:
        return {
            "images": self.camera_images(),
            "state": np.asarray(self._obs["state"], np.float32),
            "instruction": self.spec.instruction,
        }

    def camera_images(self) -> dict[str, np.ndarray]:
        """hivla camera -> uint8[H, W, 3] (empty arrays with ``render=False``)."""
        if not self.render_images:
            return {c: np.zeros((0, 0, 3), np.uint8) for c in self.cameras}
        images = self._obs["images"]
        return {c: np.asarray(images[native], np.uint8) for c, native in self.native_cameras.items()}

    def render(self) -> np.ndarray:
        return self.camera_images()[self.cameras[0]]

    def privileged_vector(self) -> np.ndarray:
        """float32[P]: the benchmark's full low-dimensional state (what its scripted policy reads)."""
        return np.asarray(self._obs.get("privileged", np.zeros(0)), np.float32)

    def _info(self) -> dict[str, Any]:
        spec = self.spec
        return {
            "instruction": spec.instruction,
            "subtasks": [spec.instruction],
            "task_kinds": [spec.task.name],
            "subtask_index": 0,
            "completed": int(self.success),
            "chain_length": 1,
            "success": self.success,
            "progress": float(self.success),
            "shifts": {},
            "seed": spec.seed,
            "step": self.steps,
            "privileged": {"grasped": None},
            "privileged_vector": self.privileged_vector(),
        }

    def versions(self) -> dict[str, Any]:
        """The benchmark's package versions, as the backend reports them."""
        return dict(self.backend.call("info"))

    def close(self) -> None:
        backend, self.backend = getattr(self, "backend", None), None
        if backend is not None:
            backend.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass
