"""Loader semantics on synthetic data with known values: chunks, padding, history, splits, filters."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hivla.data import ChunkDataset, EpisodeFilter, LoaderConfig, NormStats, VideoClipDataset, split_episodes
from hivla.data.stats import compute_stats

from .conftest import SYN_LENGTHS


def test_action_chunk_and_padding_at_episode_end(synthetic_root):
    ds = ChunkDataset(synthetic_root, LoaderConfig(horizon=5, n_obs_steps=1))
    assert len(ds) == sum(SYN_LENGTHS)
    item = ds[SYN_LENGTHS[0] - 2]  # episode 0, frame 10 of 12
    assert item["action"].shape == (5, 3)
    np.testing.assert_array_equal(item["action"][:, 1].numpy(), [10, 11, 11, 11, 11])
    assert item["action_is_pad"].tolist() == [False, False, True, True, True]
    first_of_ep1 = ds[SYN_LENGTHS[0]]
    assert int(first_of_ep1["episode_index"]) == 1 and first_of_ep1["action"][0, 0] == 1.0
    assert first_of_ep1["task"] == "task 1" and first_of_ep1["subtask"] == "step 0"


def test_observation_history_pads_before_the_start(synthetic_root):
    ds = ChunkDataset(synthetic_root, LoaderConfig(horizon=2, n_obs_steps=3))
    item = ds[1]  # episode 0, frame 1
    assert item["observation.state"][:, 0].tolist() == [0.0, 0.0, 1.0]
    assert item["observation_is_pad"].tolist() == [True, False, False]
    img = item["observation.images.front"]
    assert img.shape == (3, 3, 32, 32) and img.dtype == torch.float32
    assert float(img.min()) >= 0.0 and float(img.max()) <= 1.0
    # brightness encodes the frame: the padded frame repeats frame 0, the last is frame 1
    means = img.mean(dim=(1, 2, 3)) * 255
    assert abs(means[0] - means[1]) < 2 and means[2] - means[1] > 4


def test_dataloader_batches_with_workers(synthetic_root):
    ds = ChunkDataset(synthetic_root, LoaderConfig(horizon=4, uint8_images=True))
    loader = torch.utils.data.DataLoader(ds, batch_size=8, shuffle=True, num_workers=2)
    batches = list(loader)
    assert sum(len(b["action"]) for b in batches) == len(ds)
    b = batches[0]
    assert (
        b["observation.images.wrist"].shape == (8, 1, 3, 32, 32)
        and b["observation.images.wrist"].dtype == torch.uint8
    )
    assert b["action_is_pad"].shape == (8, 4) and len(b["task"]) == 8


def test_dataset_pickles_for_spawned_workers(synthetic_root):
    import pickle

    ds = ChunkDataset(synthetic_root, LoaderConfig(preload=True))
    copy = pickle.loads(pickle.dumps(ds))
    assert len(copy.videos._items) == 0
    torch.testing.assert_close(copy[3]["observation.images.front"], ds[3]["observation.images.front"])


def test_split_by_episode_is_disjoint_and_seeded(synthetic_root):
    train, val = split_episodes(list(range(10)), 0.2, seed=3)
    assert len(val) == 2 and set(train) | set(val) == set(range(10)) and not set(train) & set(val)
    assert split_episodes(list(range(10)), 0.2, seed=3) == (train, val)
    tr = ChunkDataset(synthetic_root, LoaderConfig(filter=EpisodeFilter(split="train", val_fraction=0.25)))
    va = ChunkDataset(synthetic_root, LoaderConfig(filter=EpisodeFilter(split="val", val_fraction=0.25)))
    ep_tr = {e["episode_index"] for e in tr.episodes}
    ep_va = {e["episode_index"] for e in va.episodes}
    assert ep_tr.isdisjoint(ep_va) and ep_tr | ep_va == set(range(len(SYN_LENGTHS)))
    assert len(tr) + len(va) == sum(SYN_LENGTHS)


def test_filters_by_episode_metadata(synthetic_root):
    ds = ChunkDataset(synthetic_root, LoaderConfig(filter=EpisodeFilter(suites=("s-a",))))
    assert [e["episode_index"] for e in ds.episodes] == [1, 3]
    ds = ChunkDataset(synthetic_root, LoaderConfig(filter=EpisodeFilter(chain_lengths=(1,))))
    assert [e["episode_index"] for e in ds.episodes] == [0, 3]
    with pytest.raises(ValueError, match="split must be"):
        EpisodeFilter(split="test")


def test_video_only_view(synthetic_root):
    clips = VideoClipDataset(synthetic_root, clip_len=3, stride=2, cameras=("front",))
    assert len(clips) == sum(max(0, n - 4) for n in SYN_LENGTHS)
    item = clips[0]
    assert item["observation.images.front"].shape == (3, 3, 32, 32)
    assert "action" not in item and item["task"] == "task 0" and item["subtask"] == "step 0"


def test_stats_match_numpy_and_round_trip(synthetic_root, tmp_path):
    stats = compute_stats(synthetic_root)
    t = np.concatenate([np.arange(n) for n in SYN_LENGTHS]).astype(np.float64)
    s = stats["action"]
    np.testing.assert_allclose(s.mean[1], t.mean(), rtol=1e-6)
    np.testing.assert_allclose(s.std[1], t.std(), rtol=1e-6)
    np.testing.assert_allclose([s.min[1], s.max[1]], [0, max(SYN_LENGTHS) - 1])
    np.testing.assert_allclose(s.q99[1], np.quantile(t, 0.99), rtol=1e-6)
    assert stats["observation.images.front"].mean.shape == (3, 1, 1)
    stats.save(tmp_path / "stats.json")
    back = NormStats.load(tmp_path / "stats.json")
    np.testing.assert_allclose(back["action"].q01, s.q01, rtol=1e-6)


def test_preload_and_cache(synthetic_root):
    ds = ChunkDataset(synthetic_root, LoaderConfig(preload=True))
    misses = ds.videos.misses
    assert misses == 2 * len(SYN_LENGTHS)
    for i in range(len(ds)):
        ds[i]
    assert ds.videos.misses == misses
    small = ChunkDataset(synthetic_root, LoaderConfig(cache_bytes=1))
    small[0], small[20]
    assert len(small.videos._items) == 1  # the LRU keeps within budget (at least one entry)
