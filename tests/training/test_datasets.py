"""``hivla train --data`` on a dataset LeRobot wrote (no hivla columns, cameras named otherwise)."""

from __future__ import annotations

import pytest
from tests.data.lerobot_layout import IMAGE_KEY, VIDEO_KEY, write_lerobot_v3

from hivla.configs import get_preset
from hivla.data import DatasetError

KEYS = f"front={VIDEO_KEY},wrist={IMAGE_KEY}"


def test_trains_the_debug_preset_on_a_lerobot_dataset(tmp_path) -> None:
    from hivla.cli.main import main as cli

    root = write_lerobot_v3(tmp_path / "lerobot")
    out = tmp_path / "run"
    args = ["train", "--preset", "debug", "--data", str(root), "--data-keys", KEYS, "--out", str(out),
            "--threads", "1", "--steps", "2", "--batch-size", "2", "--eval-every", "0", "--json"]  # fmt: skip
    assert cli(args) == 0
    assert (out / "checkpoints" / "step_0000002" / "policy.json").is_file()


def test_one_camera_dataset_with_the_cameras_override(tmp_path) -> None:
    from hivla.cli.train import Config, experiment
    from hivla.training.datasets import make_dataset

    root = write_lerobot_v3(tmp_path / "lerobot", image_camera=False)
    exp = experiment(Config(preset="debug", data=str(root), cameras="front", data_keys=f"front={VIDEO_KEY}"))
    ds = make_dataset(exp.data, exp.policy)
    item = ds[3]
    assert set(item) >= {"observation.images.front", "observation.state", "action", "task", "embodiment"}
    assert item["task"] == "pick the cube" and "observation.images.wrist" not in item


@pytest.mark.parametrize(
    ("override", "needs"),
    [({"language": "subtask"}, "subtask"), ({"action_space": "universal"}, "action.universal"),
     ({"reasoning": True}, "reasoning")],
)  # fmt: skip
def test_refuses_what_a_plain_lerobot_dataset_lacks(tmp_path, override, needs) -> None:
    from hivla.cli.train import Config, experiment
    from hivla.training.datasets import make_dataset

    root = write_lerobot_v3(tmp_path / "lerobot")
    exp = experiment(Config(preset="debug", data=str(root), data_keys=KEYS, **override))
    with pytest.raises(DatasetError, match=f"needs a '{needs}' column"):
        make_dataset(exp.data, exp.policy)


def test_bad_data_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown input 'top'"):
        get_preset("debug").data.__class__(keys="top=observation.images.top")
    with pytest.raises(ValueError, match="not NAME=COLUMN"):
        get_preset("debug").data.__class__(keys="front")


def test_video_cache_budget_reaches_each_dataset(tmp_path) -> None:
    from hivla.cli.train import Config, experiment
    from hivla.training.datasets import make_dataset

    root = write_lerobot_v3(tmp_path / "lerobot")
    exp = experiment(Config(preset="debug", data=f"{root},{root}", data_keys=KEYS, video_cache_mb=3))
    assert exp.data.video_cache_mb == 3
    ds = make_dataset(exp.data, exp.policy)
    assert [part.inner.videos.max_bytes for part in ds.parts] == [3 << 20, 3 << 20]
    assert experiment(Config(preset="debug")).data.video_cache_mb == 1024  # 0 keeps the preset's
    with pytest.raises(ValueError, match="video_cache_mb"):
        Config(preset="debug", video_cache_mb=-1)
    with pytest.raises(ValueError, match="video_cache_mb must be >= 1"):
        get_preset("debug").data.__class__(video_cache_mb=0)
