"""``hivla data import libero`` on small HDF5 files written here with LIBERO's schema (the real
files are not downloadable in CI)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

h5py = pytest.importorskip("h5py", reason="LIBERO's HDF5 files need h5py (the 'hdf5' extra)")

from hivla.cli.main import main as cli  # noqa: E402
from hivla.data import format as fmt  # noqa: E402
from hivla.data.dataset import ChunkDataset, LoaderConfig  # noqa: E402
from hivla.data.errors import DatasetError  # noqa: E402
from hivla.data.importers.libero import import_libero  # noqa: E402
from hivla.sim.adapters.libero_suites import PANDA  # noqa: E402

TASK = "pick_up_the_black_bowl_on_the_stove_and_place_it_on_the_plate"
SIZE = 64


def _image(n: int, rng) -> np.ndarray:
    """uint8[n, SIZE, SIZE, 3]: a bright top half and a dark bottom half (as stored, upside down)."""
    img = np.zeros((n, SIZE, SIZE, 3), np.uint8)
    img[:, : SIZE // 2] = 40  # what the file stores at the top ...
    img[:, SIZE // 2 :] = 200  # ... is the bottom of the upright picture
    img[:, :, : SIZE // 4] += rng.integers(0, 30, size=(n, SIZE, SIZE // 4, 3), dtype=np.uint8)
    return img


def write_libero_file(path: Path, lengths: tuple[int, ...], seed: int = 0) -> dict:
    """A LIBERO demonstration file (schema of LIBERO's scripts/create_dataset.py) with random content."""
    rng = np.random.default_rng(seed)
    demos = {}
    with h5py.File(path, "w") as f:
        data = f.create_group("data")
        data.attrs["env_name"] = "Libero_Kitchen_Tabletop_Manipulation"
        data.attrs["problem_info"] = json.dumps(
            {"problem_name": "libero_kitchen_tabletop_manipulation", "domain_name": "robosuite",
             "language_instruction": "pick up the black bowl on the stove and place it on the plate"}
        )  # fmt: skip
        data.attrs["macros_image_convention"] = "opengl"
        data.attrs["bddl_file_name"] = f"chiliocosm/bddl_files/libero_spatial/{TASK}.bddl"
        data.attrs["env_args"] = json.dumps({"type": 1, "env_kwargs": {"control_freq": 20}})
        for i, n in enumerate(lengths):
            g = data.create_group(f"demo_{i}")
            obs = g.create_group("obs")
            d = {
                "actions": rng.uniform(-1, 1, (n, 7)),
                "ee_states": rng.normal(size=(n, 6)),
                "gripper_states": rng.uniform(-0.04, 0.04, (n, 2)),
                "agentview_rgb": _image(n, rng),
                "eye_in_hand_rgb": _image(n, rng),
            }
            g.create_dataset("actions", data=d["actions"])
            for key in ("ee_states", "gripper_states", "agentview_rgb", "eye_in_hand_rgb"):
                obs.create_dataset(key, data=d[key])
            obs.create_dataset("joint_states", data=rng.normal(size=(n, 7)))
            obs.create_dataset("ee_pos", data=d["ee_states"][:, :3])
            obs.create_dataset("ee_ori", data=d["ee_states"][:, 3:])
            dones = np.zeros(n, np.uint8)
            dones[-1] = 1
            g.create_dataset("rewards", data=dones)
            g.create_dataset("dones", data=dones)
            g.create_dataset("states", data=rng.normal(size=(n, 45)))
            g.create_dataset("robot_states", data=rng.normal(size=(n, 9)))
            g.attrs["num_samples"] = n
            g.attrs["model_file"] = "<mujoco/>"
            g.attrs["init_state"] = rng.normal(size=45)
            demos[i] = d
        data.attrs["num_demos"] = len(lengths)
        data.attrs["total"] = sum(lengths)
    return demos


def test_the_converter_round_trips_a_libero_file(tmp_path):
    src = tmp_path / f"{TASK}_demo.hdf5"
    demos = write_libero_file(src, (9, 12))
    out = import_libero([src], tmp_path / "ds")
    assert (
        out["episodes"] == 2
        and out["frames"] == 21
        and out["tasks"] == {TASK: "pick up the black bowl on the stove and place it on the plate"}
    )
    ds = ChunkDataset(tmp_path / "ds", LoaderConfig(n_obs_steps=1, horizon=1, uint8_images=True))
    assert len(ds) == 21
    for ep, (start, n) in enumerate(((0, 9), (9, 12))):
        for t in (0, n - 1):
            item = ds[start + t]
            raw = demos[ep]
            np.testing.assert_allclose(item[fmt.ACTION][0].numpy(), raw["actions"][t], atol=1e-6)
            state = np.concatenate([raw["ee_states"][t], raw["gripper_states"][t]])
            np.testing.assert_allclose(item[fmt.STATE][0].numpy(), state, atol=1e-6)
            np.testing.assert_allclose(
                item[fmt.ACTION_UNIVERSAL][0].numpy(), PANDA.to_universal(raw["actions"][t]), atol=1e-6
            )
            front = item["observation.images.front"][0].numpy().transpose(1, 2, 0).astype(float)  # (H, W, 3)
            upright = raw["agentview_rgb"][t][::-1, ::-1].astype(float)
            assert np.abs(front - upright).mean() < 8  # video compression only
            assert front[: SIZE // 2].mean() > front[SIZE // 2 :].mean() + 100  # turned the right way up
            assert item["task"] == "pick up the black bowl on the stove and place it on the plate"
            assert item["embodiment"] == "panda-osc"
    info = json.loads((tmp_path / "ds" / fmt.INFO_PATH).read_text())
    assert info["fps"] == 20 and info["robot_type"] == "panda-osc"
    assert info["features"][fmt.STATE]["names"] == list(PANDA.state_names)


def test_cli_imports_several_files_and_refuses_a_foreign_one(tmp_path, capsys):
    a, b = tmp_path / "a_demo.hdf5", tmp_path / "b_demo.hdf5"
    write_libero_file(a, (5,), seed=1)
    write_libero_file(b, (6, 4), seed=2)
    assert cli(["data", "import", "libero", str(a), str(b), "--out", str(tmp_path / "ds"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["episodes"] == 3
    foreign = tmp_path / "foreign.hdf5"
    with h5py.File(foreign, "w") as f:
        f.create_dataset("x", data=np.zeros(3))
    with pytest.raises(DatasetError, match="not a LIBERO demonstration file"):
        import_libero([foreign], tmp_path / "other")
    with pytest.raises(DatasetError, match="no such file"):
        import_libero([tmp_path / "missing.hdf5"], tmp_path / "other2")
