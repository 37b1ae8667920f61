"""The checkpoint helper: one error class and one message shape for a wrong format or version,
used by every saver."""

from __future__ import annotations

import json

import pytest
import torch

from hivla.checkpoints import CheckpointFormat, CheckpointFormatError, load_weights, save_weights

FMT = CheckpointFormat("hivla.thing", 2, "thing.json", "saved thing", "`Thing.save`")


def rewrite(path, **fields):
    meta = json.loads(path.read_text())
    meta.update(fields)
    path.write_text(json.dumps(meta))


def test_round_trip(tmp_path):
    path = FMT.write_meta(tmp_path / "t", {"kind": "x", "config": {"a": 1}})
    assert json.loads(path.read_text()) == {
        "format": "hivla.thing", "format_version": 2, "kind": "x", "config": {"a": 1},
    }  # fmt: skip
    assert FMT.read_meta(tmp_path / "t")["config"] == {"a": 1}
    state = {"w": torch.arange(6.0).view(2, 3).t()}  # not contiguous
    save_weights(state, tmp_path / "t" / "w.safetensors")
    assert torch.equal(load_weights(tmp_path / "t" / "w.safetensors")["w"], state["w"])


@pytest.mark.parametrize(
    ("fields", "advice"),
    [
        ({"format_version": 3}, "A newer hivla wrote it: upgrade hivla"),
        (
            {"format_version": 1},
            "Load it with the hivla version that wrote it, or write it again with `Thing.save`",
        ),
        ({"format_version": None}, "Load it with the hivla version that wrote it"),
        ({"format": "hivla.policy"}, "It is not a saved thing: pass a directory written by `Thing.save`"),
    ],
)
def test_wrong_format_or_version_has_one_message_shape(tmp_path, fields, advice):
    path = FMT.write_meta(tmp_path, {})
    rewrite(path, **fields)
    with pytest.raises(CheckpointFormatError) as err:
        FMT.read_meta(tmp_path)
    found = fields.get("format", "hivla.thing")
    version = fields.get("format_version", 2)
    assert str(err.value).startswith(
        f"{path}: found format {found!r} format_version {version}, expected 'hivla.thing' format_version 2. "
    )
    assert advice in str(err.value) and isinstance(err.value, ValueError)


def test_missing_files_and_unnamed_metadata(tmp_path):
    with pytest.raises(
        FileNotFoundError, match=r"no thing\.json in .*: not a saved thing directory; pass one"
    ):
        FMT.read_meta(tmp_path)
    with pytest.raises(FileNotFoundError, match="incomplete"):
        load_weights(tmp_path / "absent.safetensors")
    (tmp_path / "thing.json").write_text(json.dumps({"format_version": 2}))
    with pytest.raises(CheckpointFormatError, match="found format None"):
        FMT.read_meta(tmp_path)
    legacy = CheckpointFormat("hivla.thing", 2, "thing.json", "saved thing", "`Thing.save`", unnamed_ok=True)
    assert legacy.read_meta(tmp_path) == {"format_version": 2}


def _policy_dir(tmp_path):
    from hivla.policies.base import POLICY_FORMAT

    return POLICY_FORMAT.write_meta(tmp_path / "policy", {"policy": "vla", "config": {}}), POLICY_FORMAT


def test_every_saver_uses_the_helper():
    from hivla.actions.experts.base import EXPERT_FORMAT
    from hivla.actions.tokenizers.base import TOKENIZER_FORMAT
    from hivla.planning.learned import PLANNER_FORMAT
    from hivla.planning.monitor import MONITOR_FORMAT
    from hivla.policies.base import POLICY_FORMAT
    from hivla.policies.vla.processor_vla import PROCESSOR_FORMAT
    from hivla.training.checkpoint import TRAIN_STATE_FORMAT
    from hivla.world_model.checkpoint import WORLD_MODEL_FORMAT

    formats = [EXPERT_FORMAT, TOKENIZER_FORMAT, PLANNER_FORMAT, MONITOR_FORMAT, POLICY_FORMAT,
               PROCESSOR_FORMAT, TRAIN_STATE_FORMAT, WORLD_MODEL_FORMAT]  # fmt: skip
    versions = {f.name: f.version for f in formats}
    assert versions.pop(MONITOR_FORMAT.name) == 2  # version 2: image size, calibrated threshold (v1 migrates)
    assert all(v == 1 for v in versions.values())  # the versions existing checkpoints carry
    assert len({f.name for f in formats}) == len({f.meta_file for f in formats}) == len(formats)


def test_a_future_policy_checkpoint_is_refused(tmp_path):
    from hivla.policies.base import read_policy_meta

    path, fmt = _policy_dir(tmp_path)
    rewrite(path, format_version=fmt.version + 1)
    with pytest.raises(
        CheckpointFormatError, match=r"policy\.json: found format 'hivla\.policy' format_version 2"
    ):
        read_policy_meta(path.parent)
