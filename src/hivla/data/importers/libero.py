"""Convert LIBERO's published HDF5 demonstrations into the project's dataset layout (LeRobot v3).

LIBERO's files (one per task, ``<task>_demo.hdf5``, written by its ``create_dataset.py``) hold::

    data                      attrs: problem_info (JSON: language_instruction, problem_name, ...),
                              bddl_file_name, env_args (JSON), macros_image_convention, num_demos, total
    data/demo_<i>             attrs: num_samples, model_file, init_state
    data/demo_<i>/actions                 float[N, 7]   OSC_POSE command in [-1, 1], gripper +1 closes
    data/demo_<i>/obs/agentview_rgb       uint8[N, H, W, 3]
    data/demo_<i>/obs/eye_in_hand_rgb     uint8[N, H, W, 3]
    data/demo_<i>/obs/ee_states           float[N, 6]   end-effector position and axis-angle
    data/demo_<i>/obs/gripper_states      float[N, 2]   finger joints
    data/demo_<i>/obs/joint_states        float[N, 7]
    data/demo_<i>/rewards, dones          [N]           (1 on the last step)
    data/demo_<i>/states, robot_states    float[N, .]   simulator states (kept out of the dataset)

Each demo becomes one episode with the columns of an external suite's episodes (see
``hivla.data.recorder.record_external_episode``), matching the ``libero-*`` suites' env exactly:
``front`` = agentview and ``wrist`` = eye-in-hand, turned the right way up as the env turns them
(files in robosuite's ``opengl`` image convention are upside down); state = ``ee_states`` +
``gripper_states``; embodiment ``panda-osc`` with its universal actions; 20 fps.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hivla.data import format as fmt
from hivla.data.errors import DatasetError
from hivla.data.video import VideoConfig
from hivla.data.writer import DatasetWriter, Episode, infer_features
from hivla.errors import HivlaError
from hivla.sim.adapters.libero_suites import PANDA, SUITE_NAMES, instruction_of

FPS = 20
SOURCE = "libero-import"
REQUIRED = ("actions", "obs/agentview_rgb", "obs/eye_in_hand_rgb", "obs/ee_states", "obs/gripper_states")


def _h5py():
    try:
        import h5py
    except ImportError:
        raise HivlaError(
            "importing LIBERO's HDF5 files needs h5py: `pip install 'hivla[hdf5]'` (or `pip install h5py`)"
        ) from None
    return h5py


def _demo_names(data: Any) -> list[str]:
    """``demo_<i>`` groups in numeric order."""
    names = [k for k in data if re.fullmatch(r"demo_\d+", k)]
    return sorted(names, key=lambda k: int(k.split("_")[1]))


def _task_of(data: Any, path: Path) -> tuple[str, str, str]:
    """(task name, instruction, hivla suite name or "libero") from the file's attributes."""
    bddl = str(data.attrs.get("bddl_file_name", "")) or path.name.removesuffix("_demo.hdf5")
    task = Path(bddl).name.removesuffix(".bddl").removesuffix("_demo.hdf5")
    problem = json.loads(data.attrs["problem_info"]) if "problem_info" in data.attrs else {}
    instruction = str(problem.get("language_instruction") or instruction_of(task)).strip()
    folder = Path(bddl).parent.name
    suite = f"libero-{SUITE_NAMES[folder]}" if folder in SUITE_NAMES else "libero"
    return task, instruction, suite


def _upright(images: np.ndarray, convention: str) -> np.ndarray:
    """uint8[N, H, W, 3] the right way up (``opengl`` files are upside down, as the env's raw renders)."""
    return np.ascontiguousarray(images[:, ::-1, ::-1]) if convention == "opengl" else np.asarray(images)


def read_demo(group: Any, convention: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """One demo's frame columns (without the text ones) and camera images."""
    actions = np.asarray(group["actions"], np.float32)  # (N, 7)
    n = len(actions)
    state = np.concatenate([group["obs/ee_states"][()], group["obs/gripper_states"][()]], axis=1)  # (N, 8)
    dones = np.asarray(group["dones"][()], bool) if "dones" in group else np.arange(n) == n - 1
    rewards = np.asarray(group["rewards"][()], np.float32) if "rewards" in group else dones.astype(np.float32)
    frames = {
        fmt.ACTION: actions,
        fmt.ACTION_UNIVERSAL: np.stack([PANDA.to_universal(a) for a in actions]),
        fmt.STATE: state.astype(np.float32),
        fmt.SUBTASK_INDEX: np.zeros(n, np.int64),
        fmt.REWARD: rewards,
        fmt.DONE: dones,
        fmt.SUCCESS: dones.copy(),  # LIBERO keeps successful demonstrations only; success at the end
    }
    images = {
        "front": _upright(group["obs/agentview_rgb"][()], convention),
        "wrist": _upright(group["obs/eye_in_hand_rgb"][()], convention),
    }
    for key, value in (*frames.items(), *images.items()):
        if len(value) != n:
            raise ValueError(f"{group.name}: {key} has {len(value)} rows, actions {n}")
    return frames, images


def import_libero(
    files: Sequence[str | Path],
    out: str | Path,
    video: VideoConfig | None = None,
    stats: bool = True,
    on_progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Convert LIBERO HDF5 ``files`` into a new dataset at ``out``; return a summary.

    Raises :class:`DatasetError` for a file that is missing or not in LIBERO's schema.
    """
    h5py = _h5py()
    video = video or VideoConfig()
    paths = [Path(f) for f in files]
    if not paths:
        raise HivlaError("name at least one LIBERO HDF5 file to import (e.g. libero_spatial/*_demo.hdf5)")
    writer, episodes, frames_total, tasks = None, 0, 0, {}
    try:
        for path in paths:
            if not path.is_file():
                raise DatasetError(path, "no such file", "Pass LIBERO's *_demo.hdf5 files.")
            with h5py.File(path, "r") as f:
                data = f.get("data")
                demos = _demo_names(data) if data is not None else []
                missing = [k for k in REQUIRED if not demos or k not in data[demos[0]]]
                if missing:
                    raise DatasetError(
                        path,
                        f"not a LIBERO demonstration file: no data/demo_<i> groups with {', '.join(missing)}",
                        "Expected LIBERO's HDF5 schema (see `hivla data import libero --help`).",
                    )
                task, instruction, suite = _task_of(data, path)
                convention = str(data.attrs.get("macros_image_convention", "opengl"))
                tasks[task] = instruction
                for name in demos:
                    frames, images = read_demo(data[name], convention)
                    n = len(frames[fmt.ACTION])
                    frames[fmt.SUBTASK] = [instruction] * n
                    frames[fmt.EMBODIMENT] = [PANDA.name] * n
                    info = {
                        "seed": episodes, "suite": suite, "suite_version": "1", "embodiment": PANDA.name,
                        "chain_length": 1, "subtasks": [instruction], "task_kinds": [task], "shifts": {},
                        "success": bool(frames[fmt.SUCCESS][-1]), "completed": int(frames[fmt.SUCCESS][-1]),
                        "source": SOURCE, "origin": f"{path.name}:{name}",
                    }  # fmt: skip
                    ep = Episode(frames, images, instruction, info)
                    if writer is None:
                        names = {fmt.ACTION: list(PANDA.action_names), fmt.STATE: list(PANDA.state_names)}
                        features = infer_features(ep, names, video, FPS)
                        hivla_info = {"import": {"from": "libero", "files": [p.name for p in paths]},
                                      "image_size": int(images["front"].shape[1])}  # fmt: skip
                        writer = DatasetWriter.create(out, FPS, features, PANDA.name, hivla_info, video)
                    writer.add_episode(ep)
                    episodes += 1
                    frames_total += n
                    if on_progress:
                        on_progress(episodes)
    finally:
        if writer is not None:
            writer.close()
    if stats and writer is not None:
        from hivla.data.stats import write_stats

        write_stats(out)
    return {"out": str(out), "episodes": episodes, "frames": frames_total, "tasks": tasks}
