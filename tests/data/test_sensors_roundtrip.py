"""Depth and contact recorded with `hivla collect --sensors` load back as the env produced them."""

from __future__ import annotations

import numpy as np
import pytest

from hivla.cli.main import main
from hivla.data import ChunkDataset, DatasetError, DatasetMeta, LoaderConfig, NormStats
from hivla.data import format as fmt
from hivla.data.recorder import CollectConfig
from hivla.sim.camera_geometry import depth_to_points

DEPTH_TOLERANCE = 0.0005 + 1e-6  # metres: whole millimetres, rounded


def replay(seed: int, image_size: int) -> list[dict]:
    """The expert's episode from ``seed``, rolled out directly with the sensors on."""
    from hivla.sim import ScriptedExpert, make_env

    env = make_env(
        "tabletop-single", "floating", image_size=image_size, sensors=("depth", "points", "contact")
    )
    obs, info = env.reset(seed=seed)
    expert = ScriptedExpert(env)
    expert.reset()
    out = []
    while True:
        out.append(obs)
        obs, _, terminated, truncated, info = env.step(expert.act(obs, info)[0])
        if terminated or truncated:
            break
    env.close()
    return out


def test_depth_and_contact_round_trip(tmp_path, capsys):
    root = tmp_path / "rgbd"
    argv = [
        "collect",
        "--out",
        str(root),
        "--episodes",
        "2",
        "--image-size",
        "64",
        "--sensors",
        "depth,contact",
    ]
    assert main([*argv, "--json"]) == 0
    capsys.readouterr()
    meta = DatasetMeta.load(root)
    feat = meta.features[fmt.depth_key("front")]
    assert feat["dtype"] == "uint16" and feat["shape"] == [64, 64] and feat["info"]["depth.unit"] == "mm"
    assert meta.features[fmt.CONTACT]["names"][0] == "finger_left_force"

    ds = ChunkDataset(root, LoaderConfig(horizon=1, sensors=("depth", "contact")))
    ref = [
        obs for e in meta.episodes for obs in replay(int(e["hivla/seed"]), 64)
    ]  # seeds 0, 1: the second picks
    assert len(ds) == len(ref)
    touched = 0
    for t, obs in enumerate(ref):
        item = ds[t]
        for cam in ("front", "wrist"):
            got = item[fmt.depth_key(cam)]  # (T, 1, H, W) metres
            assert got.shape == (1, 1, 64, 64) and got.dtype.is_floating_point
            want = obs["depth"][cam]
            near = want < fmt.DEPTH_MAX_UNITS * fmt.DEPTH_SCALE
            assert near.mean() > 0.9
            err = np.abs(got[0, 0].numpy() - want)
            assert err[near].max() <= DEPTH_TOLERANCE
            # The point cloud rebuilt from the stored depth, pose and intrinsics is the env's.
            pose = item[fmt.camera_pose_key(cam)][0].numpy()  # (4, 4) camera-to-world at this frame
            k = item[fmt.camera_intrinsics_key(cam)].numpy()  # (3, 3)
            np.testing.assert_array_equal(pose, obs["camera_params"][cam]["extrinsics"])
            np.testing.assert_allclose(k, obs["camera_params"][cam]["intrinsics"], rtol=1e-6)
            points = depth_to_points(got[0, 0].numpy(), k, pose)
            assert np.abs(points - obs["points"][cam])[near].max() < 2e-3
        np.testing.assert_array_equal(item[fmt.CONTACT][0].numpy(), obs["contact"])
        touched += int(obs["contact"][2] > 0)
    assert touched > 0  # the expert grasps: the dataset holds contact

    stats = NormStats.load(root)
    depth = stats[fmt.depth_key("wrist")]
    assert np.shape(depth.mean) == (1, 1, 1) and 0.05 < float(depth.q50.ravel()[0]) < 2.0  # metres
    assert np.shape(stats[fmt.CONTACT].mean) == (10,)
    import pyarrow.parquet as pq

    per_episode = pq.read_table(root / fmt.EPISODES_PATH).to_pylist()[0]
    assert np.shape(per_episode[f"stats/{fmt.depth_key('front')}/mean"]) == (1, 1, 1)  # one figure per map


def test_loader_and_collect_refuse_missing_or_derived_sensors(synthetic_root, tmp_path):
    with pytest.raises(DatasetError, match="--sensors depth,contact"):
        ChunkDataset(synthetic_root, LoaderConfig(horizon=1, sensors=("depth",)))
    with pytest.raises(ValueError, match="points are not stored"):
        CollectConfig(out=tmp_path / "x", sensors=("depth", "points"))


def test_viz_shows_depth_and_contact_and_re_rendering_drops_stale_depth(tmp_path):
    from hivla.data.recorder import CollectConfig, collect
    from hivla.data.synthesis import SynthesizeConfig, synthesize
    from hivla.data.viz import render_episode

    root = tmp_path / "rgbd"
    collect(
        CollectConfig(
            out=root, episodes=1, image_size=64, max_steps=25, sensors=("depth", "contact"), seed_offset=1
        )
    )
    # New looks may move the cameras: the re-rendered dataset keeps contact but not depth and poses.
    synthesize(SynthesizeConfig(root, tmp_path / "synth", variations=1))
    features = DatasetMeta.load(tmp_path / "synth").features
    assert fmt.CONTACT in features and not any(fmt.is_depth_geometry(k) for k in features)
    frames = render_episode(root, 0, scale=1)
    assert frames.shape[2] == 4 * 64  # front, wrist, then their depth maps
    depth_tile = frames[:, :64, 128:192]  # the front camera's depth, colour-mapped
    assert depth_tile.std() > 5  # near table and far floor differ
    from hivla.data.viz import contact_text

    assert contact_text(np.r_[7.0, 7.2, 1, 1, 0, 0, 0.5, 0, 0, 0]).startswith(
        "contact: fingers 7.0 N / 7.2 N (touch LR)"
    )
