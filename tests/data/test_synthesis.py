"""Re-rendered episodes keep every recorded column, get new pixels, and resume like a collection."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hivla.cli.main import main
from hivla.data.errors import DatasetError
from hivla.data.meta import DatasetMeta
from hivla.data.reader import FrameTable, VideoCache
from hivla.data.synthesis import SynthesizeConfig, synthesize

from .conftest import write_synthetic

SAME = ("action", "action.universal", "observation.state", "observation.privileged", "sim.qpos",
        "annotation.target_xyz", "subtask", "reasoning", "subtask_index", "next.reward", "next.success")  # fmt: skip


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    root = tmp_path_factory.mktemp("syn") / "src"
    assert main(["collect", "--out", str(root), "--episodes", "2", "--image-size", "64", "--json"]) == 0
    return root


def _columns(root):
    meta = DatasetMeta.load(root)
    return meta, FrameTable(meta, meta.episodes)


def test_cli_re_renders_with_identical_annotations_and_new_pixels(source, tmp_path, capsys):
    capsys.readouterr()
    out = tmp_path / "synth"
    assert main(["data", "synthesize", str(source), "--out", str(out), "--variations", "2", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["episodes"] == 4 and summary["bytes"] > 0 and summary["seconds_per_episode"] > 0
    src_meta, src = _columns(source)
    new_meta, new = _columns(out)
    src_videos, new_videos = VideoCache(src_meta), VideoCache(new_meta)
    for e in new_meta.episodes:
        origin = int(e["hivla/synth_of"])
        s = src_meta.episodes[origin]
        assert e["tasks"] == s["tasks"] and e["length"] == s["length"] and e["hivla/seed"] == s["hivla/seed"]
        rows_new = slice(int(e["dataset_from_index"]), int(e["dataset_to_index"]))
        rows_src = slice(int(s["dataset_from_index"]), int(s["dataset_to_index"]))
        for key in SAME:
            np.testing.assert_array_equal(new.columns[key][rows_new], src.columns[key][rows_src], err_msg=key)
        uv_new, uv_src = (
            new.columns["annotation.target_uv"][rows_new],
            src.columns["annotation.target_uv"][rows_src],
        )
        np.testing.assert_allclose(uv_new[:, 3:], uv_src[:, 3:], atol=1e-4)  # the wrist camera never moves
        look = json.loads(e["hivla/synth_look"])
        if look["camera_orbit_deg"] != 0.0:
            assert np.abs(uv_new[:, :3] - uv_src[:, :3]).max() > 1e-3  # the front camera moved
        for key in new_meta.video_keys:
            diff = np.abs(new_videos.get(e, key).astype(int) - src_videos.get(s, key).astype(int)).mean()
            assert diff > 2.0, key
    assert {int(e["hivla/synth_variation"]) for e in new_meta.episodes} == {0, 1}
    assert (out / "meta/stats.json").is_file()


def test_resume_continues_and_a_different_seed_is_refused(source, tmp_path):
    out = tmp_path / "synth"
    synthesize(SynthesizeConfig(source, out, variations=2, episodes=1))
    assert len(DatasetMeta.load(out).episodes) == 2
    with pytest.raises(FileExistsError, match="--resume"):
        synthesize(SynthesizeConfig(source, out, variations=2))
    with pytest.raises(ValueError, match="cannot resume"):
        synthesize(SynthesizeConfig(source, out, variations=2, seed=1, resume=True))
    result = synthesize(SynthesizeConfig(source, out, variations=2, resume=True))
    assert result["episodes"] == 4 and result["new_episodes"] == 2
    pairs = {
        (int(e["hivla/synth_of"]), int(e["hivla/synth_variation"])) for e in DatasetMeta.load(out).episodes
    }
    assert pairs == {(0, 0), (0, 1), (1, 0), (1, 1)}


def test_same_seed_same_looks(source, tmp_path):
    looks = []
    for name in ("a", "b"):
        synthesize(SynthesizeConfig(source, tmp_path / name, variations=1, episodes=1))
        looks.append(DatasetMeta.load(tmp_path / name).episodes[0]["hivla/synth_look"])
    assert looks[0] == looks[1]


def test_dataset_without_simulator_positions_is_a_clear_error(tmp_path):
    root = write_synthetic(tmp_path / "plain")
    with pytest.raises(DatasetError, match=r"sim\.qpos"):
        synthesize(SynthesizeConfig(root, tmp_path / "out"))


def test_config_errors(tmp_path):
    with pytest.raises(ValueError, match="variations"):
        SynthesizeConfig(tmp_path / "a", tmp_path / "b", variations=0)
    with pytest.raises(ValueError, match="new directory"):
        SynthesizeConfig(tmp_path / "a", tmp_path / "a")
