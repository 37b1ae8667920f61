"""MetaWorld (Yu et al. 2019, "Meta-World: A Benchmark and Evaluation for Multi-Task and Meta
Reinforcement Learning"; PyPI ``metaworld`` v3) as external suites: ML1 per task, MT10 and MT50.

The Sawyer arm's native action is ``[hand_dx, hand_dy, hand_dz, grip]`` in [-1, 1]: the hand target
moves by 1 cm per unit per step in MetaWorld's world (x right, y away from the robot base, z up) and
``grip`` > 0 closes. Its universal mapping turns that into hivla's convention (+x forward = MetaWorld
+y, +y left = MetaWorld -x, metres per step; rotations are not actuated and map to 0). State is the
hand position and the gripper opening; the privileged vector is MetaWorld's full 39-value
observation with the goal visible (what its scripted policies read). Cameras: ``front`` is the
``corner`` camera turned the right way up, ``wrist`` the ``gripperPOV`` camera. Episodes last at
most 200 steps (MetaWorld's own limit is 500; its scripted policies finish within 200).

MetaWorld 3.1.1 pins ``mujoco==3.3.0``; where hivla's MuJoCo differs, ``hivla sim setup metaworld``
installs it in a venv whose interpreter runs the env worker.
"""

from __future__ import annotations

import numpy as np

from hivla.sim.adapters.base import ExternalSuite, ExternalTask, RobotSpec, register_suite

METAWORLD_PACKAGE = ("metaworld==3.1.1", "packaging")
MOVE_PER_UNIT = 0.01  # metres of hand motion per unit of native action per step (action_scale 1/100)

# One instruction per task, in words a person would use.
INSTRUCTIONS: dict[str, str] = {
    "assembly-v3": "put the ring onto the peg",
    "basketball-v3": "pick up the ball and dunk it into the basket",
    "bin-picking-v3": "pick the cube out of the left bin and place it in the right bin",
    "box-close-v3": "pick up the lid and close the box",
    "button-press-topdown-v3": "press the button from the top",
    "button-press-topdown-wall-v3": "press the button from the top, reaching over the wall",
    "button-press-v3": "press the button on the front of the box",
    "button-press-wall-v3": "press the button behind the wall",
    "coffee-button-v3": "press the button on the coffee machine",
    "coffee-pull-v3": "pull the mug away from the coffee machine",
    "coffee-push-v3": "push the mug under the coffee machine",
    "dial-turn-v3": "turn the dial",
    "disassemble-v3": "pick the ring off the peg",
    "door-close-v3": "close the door",
    "door-lock-v3": "lock the door by turning the lock down",
    "door-open-v3": "open the door",
    "door-unlock-v3": "unlock the door by turning the lock",
    "hand-insert-v3": "put the hand into the hole in the table",
    "drawer-close-v3": "push the drawer closed",
    "drawer-open-v3": "pull the drawer open",
    "faucet-open-v3": "turn the faucet handle to open it",
    "faucet-close-v3": "turn the faucet handle to close it",
    "hammer-v3": "hammer the nail into the wall",
    "handle-press-side-v3": "press the handle down from the side",
    "handle-press-v3": "press the handle down",
    "handle-pull-side-v3": "pull the handle up from the side",
    "handle-pull-v3": "pull the handle up",
    "lever-pull-v3": "pull the lever up",
    "pick-place-wall-v3": "pick up the puck and place it at the goal behind the wall",
    "pick-out-of-hole-v3": "pick the peg out of the hole",
    "pick-place-v3": "pick up the puck and place it at the goal",
    "plate-slide-v3": "slide the plate into the goal",
    "plate-slide-side-v3": "slide the plate sideways into the goal",
    "plate-slide-back-v3": "slide the plate back out of the goal",
    "plate-slide-back-side-v3": "slide the plate sideways back out of the goal",
    "peg-insert-side-v3": "insert the peg into the hole from the side",
    "peg-unplug-side-v3": "unplug the peg from the side",
    "soccer-v3": "push the ball into the goal",
    "stick-push-v3": "grasp the stick and push the box with it",
    "stick-pull-v3": "grasp the stick and pull the box with it",
    "push-v3": "push the puck to the goal",
    "push-wall-v3": "push the puck around the wall to the goal",
    "push-back-v3": "push the puck back to the goal",
    "reach-v3": "reach the goal position",
    "reach-wall-v3": "reach the goal position over the wall",
    "shelf-place-v3": "pick up the puck and place it on the shelf",
    "sweep-into-v3": "sweep the puck into the hole",
    "sweep-v3": "sweep the puck off the table",
    "window-open-v3": "slide the window open",
    "window-close-v3": "slide the window closed",
}
MT10_TASKS = (
    "reach-v3", "push-v3", "pick-place-v3", "door-open-v3", "drawer-open-v3", "drawer-close-v3",
    "button-press-topdown-v3", "peg-insert-side-v3", "window-open-v3", "window-close-v3",
)  # fmt: skip


def _to_universal(native: np.ndarray) -> np.ndarray:
    """Sawyer native float[4] -> universal float32[7] (see the module docstring)."""
    move = np.clip(native[:3], -1.0, 1.0) * MOVE_PER_UNIT  # MetaWorld world frame (x right, y away, z up)
    out = np.zeros(7, np.float32)
    out[0], out[1], out[2] = move[1], -move[0], move[2]  # hivla: +x forward, +y left, +z up
    out[6] = np.clip(native[3], -1.0, 1.0)
    return out


def _from_universal(universal: np.ndarray) -> np.ndarray:
    """Universal float[7] -> Sawyer native float[4]; rotations are dropped (the hand does not turn)."""
    fwd, left, up = np.asarray(universal[:3], np.float64) / MOVE_PER_UNIT
    return np.clip(np.array([-left, fwd, up, universal[6]]), -1.0, 1.0)


SAWYER = RobotSpec(
    name="sawyer",
    description="MetaWorld's Sawyer arm: hand position control (mocap), parallel gripper",
    action_names=("hand_dx", "hand_dy", "hand_dz", "grip"),
    action_low=(-1.0, -1.0, -1.0, -1.0),
    action_high=(1.0, 1.0, 1.0, 1.0),
    state_names=("hand_x", "hand_y", "hand_z", "gripper_open"),
    to_universal_fn=_to_universal,
    from_universal_fn=_from_universal,
)


def _suite(name: str, tasks: tuple[str, ...], seed_base: int, description: str) -> ExternalSuite:
    return ExternalSuite(
        name=name,
        version="3",
        benchmark="metaworld",
        tasks=tuple(ExternalTask(t, INSTRUCTIONS[t]) for t in tasks),
        robot=SAWYER,
        cameras=(("front", "corner"), ("wrist", "gripperPOV")),
        backend="metaworld_backend.py",
        package=METAWORLD_PACKAGE,
        import_name="metaworld",
        seed_base=seed_base,
        max_steps=200,
        fps=80,  # 5 MuJoCo steps of 2.5 ms per control step
        scripted=True,
        description=description,
    )


def register_metaworld_suites() -> None:
    register_suite(
        _suite("metaworld-mt10", MT10_TASKS, 7_000_000, "MetaWorld MT10: 10 tasks, one per seed in turn")
    )
    register_suite(
        _suite(
            "metaworld-mt50",
            tuple(INSTRUCTIONS),
            7_100_000,
            "MetaWorld MT50: all 50 tasks, one per seed in turn",
        )
    )
    for i, task in enumerate(INSTRUCTIONS):
        short = task.removesuffix("-v3")
        register_suite(
            _suite(f"metaworld-ml1-{short}", (task,), 7_200_000 + 20_000 * i, f"MetaWorld ML1: {short}")
        )
