"""Datasets in the LeRobot v3 layout (parquet + mp4 + meta) with hivla annotation columns.

Writing: :class:`DatasetWriter` (atomic per-episode commits), :func:`collect` (scripted-expert
recorder). Reading: :class:`ChunkDataset` (observation history + action chunk),
:class:`VideoClipDataset` (frames + language). Statistics: :func:`compute_stats`, :class:`NormStats`.
"""

from hivla.data.dataset import ChunkDataset, EpisodeFilter, LoaderConfig, VideoClipDataset, split_episodes
from hivla.data.errors import DatasetError
from hivla.data.format import CODEBASE_VERSION, HIVLA_FORMAT_VERSION
from hivla.data.meta import DatasetMeta
from hivla.data.stats import FeatureStats, NormStats, compute_stats, write_stats
from hivla.data.video import VideoConfig
from hivla.data.writer import DatasetWriter, Episode, infer_features

__all__ = [
    "CODEBASE_VERSION",
    "HIVLA_FORMAT_VERSION",
    "ChunkDataset",
    "DatasetError",
    "DatasetMeta",
    "DatasetWriter",
    "Episode",
    "EpisodeFilter",
    "FeatureStats",
    "LoaderConfig",
    "NormStats",
    "VideoClipDataset",
    "VideoConfig",
    "compute_stats",
    "infer_features",
    "split_episodes",
    "write_stats",
]
