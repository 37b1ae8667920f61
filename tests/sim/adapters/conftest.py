"""Test suites on the small reach benchmark (``reach_backend.py``): one in process, one in the env
worker of this same interpreter (``HIVLA_TESTWORKER_PYTHON``), one whose backend raises."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

from hivla.sim.adapters import EXTERNAL_SUITES, ExternalSuite, ExternalTask, RobotSpec, register_suite

BACKEND = str(Path(__file__).with_name("reach_backend.py"))


def _to_universal(native):
    return np.array([native[1] * 0.02, -native[0] * 0.02, 0, 0, 0, 0, native[2]], np.float32)


def _from_universal(u):
    return np.clip([-u[1] / 0.02, u[0] / 0.02, u[6]], -1, 1)


POINT = RobotSpec(
    name="point-hand",
    description="a point hand moving in the plane",
    action_names=("vx", "vy", "grip"),
    action_low=(-1.0, -1.0, -1.0),
    action_high=(1.0, 1.0, 1.0),
    state_names=("x", "y"),
    to_universal_fn=_to_universal,
    from_universal_fn=_from_universal,
)


def _suite(name: str, benchmark: str, **options) -> ExternalSuite:
    return ExternalSuite(
        name=name, version="1", benchmark=benchmark,
        tasks=(ExternalTask("reach-left", "reach the red dot on the left"),
               ExternalTask("reach-right", "reach the red dot on the right")),
        robot=POINT, cameras=(("front", "top"), ("wrist", "hand")), backend=BACKEND, package=("numpy",),
        import_name="numpy", seed_base=5_000_000, max_steps=60, fps=10, scripted=True,
        n_train=200, n_heldout=50, description="test: reach a dot", options=tuple(options.items()),
    )  # fmt: skip


for _s in (_suite("test-reach", "testreach"), _suite("test-reach-worker", "testworker"),
           _suite("test-reach-broken", "testreach", fail_on="step")):  # fmt: skip
    if _s.name not in EXTERNAL_SUITES:
        register_suite(_s)
os.environ["HIVLA_TESTWORKER_PYTHON"] = sys.executable  # the worker suite runs in a subprocess
