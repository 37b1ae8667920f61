"""The built-in MuJoCo tabletop benchmark: scene, embodiments, tasks, chains, shifts, experts."""

import os

# Offscreen rendering on the CPU (Mesa EGL) unless the user chose another backend.
os.environ.setdefault("MUJOCO_GL", "egl")


from hivla.sim.adapters import EXTERNAL_SUITES, ExternalSuite
from hivla.sim.benchmarks import (
    check_embodiment,
    embodiment_info,
    embodiments_of,
    get_suite,
    gym_id,
    is_external,
    make_env,
    register_gym_ids,
    suite_names,
)
from hivla.sim.embodiments import EMBODIMENTS
from hivla.sim.env import TabletopEnv
from hivla.sim.expert import ScriptedExpert
from hivla.sim.sensors import CONTACT_NAMES, SENSORS, parse_sensors
from hivla.sim.shifts import SHIFT_AXES, parse_shifts
from hivla.sim.suites import SUITES, Suite

TASK_KINDS = ("pick", "place", "stack", "push", "open_drawer", "close_drawer", "press_button")

register_gym_ids()  # every suite is a gymnasium id: gymnasium.make("hivla/<suite>-v<version>", ...)

__all__ = [
    "CONTACT_NAMES",
    "EMBODIMENTS",
    "EXTERNAL_SUITES",
    "SENSORS",
    "SHIFT_AXES",
    "SUITES",
    "TASK_KINDS",
    "ExternalSuite",
    "ScriptedExpert",
    "Suite",
    "TabletopEnv",
    "check_embodiment",
    "embodiment_info",
    "embodiments_of",
    "get_suite",
    "gym_id",
    "is_external",
    "make_env",
    "parse_sensors",
    "parse_shifts",
    "suite_names",
]
