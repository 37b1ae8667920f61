"""MetaWorld backend (runs in process or in the env worker; imports only NumPy, MuJoCo, MetaWorld).

``make(suite, image_size, cameras)``; ``reset(task, seed)`` builds (once per task) the task's env
with the goal visible, seeds MetaWorld's randomisation of object and goal positions with ``seed``
and resets; ``step(action)``; ``expert()`` is MetaWorld's scripted policy for the task. Images are
rendered with ``mujoco.Renderer`` and turned the right way up (MetaWorld's corner cameras look at
the scene upside down: their image y axis points to the floor), without shadows, reflections or
multisampling: with them a 128-px frame of the two cameras costs ~10x more on CPU (Mesa) rendering.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

UPSIDE_DOWN = ("corner", "corner2", "corner3", "corner4")  # rotated by 180 degrees to look upright


class MetaWorldBackend:
    def __init__(self, suite: str, image_size: int, cameras: list[str]) -> None:
        import metaworld  # noqa: F401  (registers nothing we use; checks the install)
        from metaworld.env_dict import ALL_V3_ENVIRONMENTS
        from metaworld.policies import ENV_POLICY_MAP

        self.classes, self.policies = ALL_V3_ENVIRONMENTS, ENV_POLICY_MAP
        self.image_size, self.cameras = int(image_size), list(cameras)
        self.envs: dict[str, Any] = {}
        self.renderers: dict[str, Any] = {}
        self.env = self.policy = self.obs = None

    def _env(self, task: str):
        if task not in self.classes:
            raise ValueError(f"unknown MetaWorld task {task!r}; available: {', '.join(self.classes)}")
        if task not in self.envs:
            env = self.classes[task]()
            env._partially_observable = False  # the goal is part of the state (the scripted policies read it)
            del env.sawyer_observation_space  # recomputed for the visible goal
            env._freeze_rand_vec = False
            env._set_task_called = True
            env.seeded_rand_vec = (
                True  # object and goal positions come from env.np_random (seeded per episode)
            )
            self.envs[task] = env
        return self.envs[task]

    def _render(self, env) -> dict[str, np.ndarray]:
        import mujoco

        if not self.cameras:
            return {}
        key = id(env.model)
        if key not in self.renderers:
            env.model.vis.quality.offsamples = 0  # no multisampling
            r = mujoco.Renderer(env.model, self.image_size, self.image_size)
            r.scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = 0  # shadows cost ~10x on CPU rendering
            r.scene.flags[mujoco.mjtRndFlag.mjRND_REFLECTION] = 0
            self.renderers[key] = r
        r = self.renderers[key]
        out = {}
        for cam in self.cameras:
            r.update_scene(env.data, cam)
            img = r.render()
            out[cam] = np.ascontiguousarray(img[::-1, ::-1] if cam in UPSIDE_DOWN else img)  # (H, W, 3)
        return out

    def _observe(self, obs: np.ndarray) -> dict[str, Any]:
        self.obs = np.asarray(obs, np.float64)
        return {
            "images": self._render(self.env),
            "state": self.obs[:4].astype(np.float32),  # hand xyz, gripper opening
            "privileged": self.obs.astype(np.float32),  # the full 39-value observation, goal visible
        }

    def reset(self, task: str, seed: int) -> dict[str, Any]:
        self.env = self._env(task)
        self.env.seed(int(seed) % 2**32)
        obs, _ = self.env.reset()
        self.policy = self.policies[task]()
        return {"obs": self._observe(obs), "success": False}

    def step(self, action: np.ndarray) -> dict[str, Any]:
        if self.env is None:
            raise ValueError("step before reset")
        obs, reward, _, _, info = self.env.step(np.asarray(action, np.float32))
        return {"obs": self._observe(obs), "reward": float(reward), "success": bool(info["success"] > 0)}

    def expert(self) -> np.ndarray:
        if self.policy is None:
            raise ValueError("expert before reset")
        with warnings.catch_warnings():  # the policies warn that their gains exceed the action range
            warnings.simplefilter("ignore")
            action = self.policy.get_action(self.obs)
        return np.clip(np.asarray(action, np.float32), -1.0, 1.0)

    def info(self) -> dict[str, Any]:
        import importlib.metadata as md

        import mujoco

        return {"metaworld": md.version("metaworld"), "mujoco": mujoco.__version__, "numpy": np.__version__}

    def close(self) -> None:
        for r in self.renderers.values():
            r.close()
        for env in self.envs.values():
            env.close()
        self.renderers.clear()
        self.envs.clear()


def make(suite: str, image_size: int = 128, cameras: list[str] | tuple[str, ...] = ()) -> MetaWorldBackend:
    return MetaWorldBackend(suite, image_size, list(cameras))
