"""Episodes to and from dataset directories; labels known and unknown."""

import numpy as np

from hivla.world_model import CollectSpec
from hivla.world_model.data import WindowDataset
from hivla.world_model.events import EVENT_NAMES
from hivla.world_model.sources import load_episodes, write_dataset


def test_dataset_round_trip_keeps_actions_and_events(episodes, tmp_path):
    root = write_dataset(episodes[:2], tmp_path / "ds", CollectSpec(suite="tabletop-single"))
    back = load_episodes(root)
    assert len(back) == 2
    for a, b in zip(episodes[:2], back, strict=True):
        n = b.length
        assert n == a.length - 1  # the final observation has no action: not stored
        assert np.allclose(a.action[:n], b.action)
        assert np.array_equal(a.events[:n], b.events)
        assert b.success == a.success and b.info["subtask_kinds"] == a.info["subtask_kinds"]
        assert np.abs(a.images["front"][:n].astype(int) - b.images["front"]).mean() < 8  # video codec


def test_a_plain_collect_dataset_has_unknown_safety_labels(episodes, tmp_path):
    import pyarrow.parquet as pq

    root = write_dataset(episodes[:1], tmp_path / "ds", CollectSpec(suite="tabletop-single"))
    for f in root.glob("data/**/*.parquet"):  # drop our column, as `hivla collect` writes none
        table = pq.read_table(f)
        pq.write_table(table.drop(["wm.events"]).replace_schema_metadata(table.schema.metadata), f)
    import json

    info = json.loads((root / "meta/info.json").read_text())
    del info["features"]["wm.events"]
    (root / "meta/info.json").write_text(json.dumps(info))
    ep = load_episodes(root)[0]
    known = ~np.isnan(ep.events[:-1])
    assert (
        known[:, EVENT_NAMES.index("subtask_done")].all() and known[:, EVENT_NAMES.index("object_out")].all()
    )
    assert not known[:, EVENT_NAMES.index("table_contact")].any()


def test_windows_have_the_documented_shapes(episodes):
    ds = WindowDataset([e.resized(32, ("front",)) for e in episodes], horizon=3, outcome_horizon=10)
    item = ds[0]
    assert (
        item["images.front"].shape == (4, 3, 32, 32) and item["images.front"].dtype.is_floating_point is False
    )
    assert item["state"].shape[0] == 4 and item["action"].shape == (3, 7)
    assert item["events"].shape == (3, len(EVENT_NAMES)) and item["outcome"].shape == (4,)
    assert len(set(ds.episode_indices())) == len(episodes)
