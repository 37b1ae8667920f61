"""A tiny benchmark for the adapter tests: a point hand reaching a goal on a square table.

Pure NumPy, so it runs in process and in the env worker of any interpreter with NumPy. Tasks:
``reach-left`` and ``reach-right`` (the goal lies in that half). The native action is the hand's
velocity ``[vx, vy]`` in [-1, 1] (2 cm per unit per step) plus an unused ``grip``; success when the
hand is within 3 cm of the goal. The front camera sees the table from above (hand white, goal red);
the wrist camera is the neighbourhood of the hand.
"""

from __future__ import annotations

import importlib.metadata as md
from typing import Any

import numpy as np

SPEED, RADIUS = 0.02, 0.03


class ReachBackend:
    def __init__(self, suite: str, image_size: int, cameras: list[str], fail_on: str = "") -> None:
        self.size, self.cameras, self.fail_on = int(image_size), list(cameras), fail_on
        self.hand = np.zeros(2)
        self.goal = np.zeros(2)

    def _pixel(self, xy: np.ndarray, scale: float, centre: np.ndarray) -> tuple[int, int]:
        u = (xy - centre) / scale * 0.5 + 0.5  # [0, 1] across the image
        return int(np.clip((1 - u[1]) * (self.size - 1), 0, self.size - 1)), int(
            np.clip(u[0] * (self.size - 1), 0, self.size - 1)
        )

    def _image(self, scale: float, centre: np.ndarray) -> np.ndarray:
        img = np.full((self.size, self.size, 3), 60, np.uint8)  # (H, W, 3)
        for xy, colour in ((self.goal, (220, 30, 30)), (self.hand, (250, 250, 250))):
            r, c = self._pixel(xy, scale, centre)
            img[max(r - 2, 0) : r + 3, max(c - 2, 0) : c + 3] = colour
        return img

    def _observe(self) -> dict[str, Any]:
        views = {"top": (1.0, np.zeros(2)), "hand": (0.2, self.hand)}
        return {
            "images": {c: self._image(*views[c]) for c in self.cameras},
            "state": self.hand.astype(np.float32),
            "privileged": np.concatenate([self.hand, self.goal]).astype(np.float32),
        }

    def reset(self, task: str, seed: int) -> dict[str, Any]:
        if task not in ("reach-left", "reach-right"):
            raise ValueError(f"unknown task {task!r}")
        rng = np.random.default_rng(seed)
        side = -1.0 if task == "reach-left" else 1.0
        self.goal = np.array([side * rng.uniform(0.3, 0.8), rng.uniform(-0.8, 0.8)])
        self.hand = rng.uniform(-0.2, 0.2, size=2)
        return {"obs": self._observe(), "success": False}

    def step(self, action: np.ndarray) -> dict[str, Any]:
        if self.fail_on == "step":
            raise RuntimeError("the benchmark broke")
        self.hand = np.clip(self.hand + np.clip(action[:2], -1, 1) * SPEED, -1, 1)
        dist = float(np.linalg.norm(self.hand - self.goal))
        return {"obs": self._observe(), "reward": -dist, "success": dist < RADIUS}

    def expert(self) -> np.ndarray:
        delta = (self.goal - self.hand) / SPEED
        return np.append(np.clip(delta, -1, 1), 0.0).astype(np.float32)

    def info(self) -> dict[str, Any]:
        return {"numpy": md.version("numpy")}

    def close(self) -> None:
        pass


def make(suite: str, image_size: int = 64, cameras=(), fail_on: str = "") -> ReachBackend:
    return ReachBackend(suite, image_size, list(cameras), fail_on)
