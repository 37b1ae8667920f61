"""The built-in MuJoCo tabletop benchmark: scene, embodiments, tasks, chains, shifts, experts."""

import os

# Offscreen rendering on the CPU (Mesa EGL) unless the user chose another backend.
os.environ.setdefault("MUJOCO_GL", "egl")


from hivla.sim.embodiments import EMBODIMENTS
from hivla.sim.env import TabletopEnv, make_env
from hivla.sim.expert import ScriptedExpert
from hivla.sim.shifts import SHIFT_AXES, parse_shifts
from hivla.sim.suites import SUITES, Suite

TASK_KINDS = ("pick", "place", "stack", "push", "open_drawer", "close_drawer", "press_button")

__all__ = [
    "EMBODIMENTS",
    "SHIFT_AXES",
    "SUITES",
    "TASK_KINDS",
    "ScriptedExpert",
    "Suite",
    "TabletopEnv",
    "make_env",
    "parse_shifts",
]
