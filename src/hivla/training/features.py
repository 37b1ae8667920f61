"""Feature caching: with a frozen vision encoder (or frozen VLM) its features are computed once
per dataset and reused, so CPU training only pays for the trainable part.

:func:`cached_dataset` runs the frozen encoder once over the dataset and materializes every
sample without its images: ``features.vision`` float16[N, Dv] (+ ``features.vision_valid``)
instead of ``observation.images.*``. The cache is a safetensors file plus a JSON side file
(texts, embodiments), keyed by the encoder config and the dataset fingerprint, so later runs
and resumed runs load it instead of recomputing. Image augmentation cannot apply to cached
features (the frozen features are of the unaugmented images): a config asking for both is refused
(``hivla.configs.presets.check_augmentation_cache``), never silently trained without augmentation.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import torch

from hivla.training.data import collate, pad_last
from hivla.utils.serialization import config_to_dict

CACHE_VERSION = 1


class CachedDataset(torch.utils.data.Dataset):
    """Materialized samples: tensors stacked along dim 0, strings in lists."""

    def __init__(self, tensors: dict[str, torch.Tensor], strings: dict[str, list[str]]) -> None:
        sizes = {len(v) for v in tensors.values()} | {len(v) for v in strings.values()}
        if len(sizes) != 1:
            raise ValueError(f"cached fields differ in length: {sizes}")
        self.tensors, self.strings = tensors, strings
        self.size = sizes.pop()

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index: int) -> dict[str, Any]:
        out: dict[str, Any] = {k: v[index] for k, v in self.tensors.items()}
        out.update({k: v[index] for k, v in self.strings.items()})
        return out


def dataset_fingerprint(dataset: Any) -> str:
    """A string that changes when the dataset does (its own ``fingerprint()`` if it has one)."""
    if hasattr(dataset, "fingerprint"):
        return str(dataset.fingerprint())
    if hasattr(dataset, "spec"):
        return repr(dataset.spec)
    return f"{type(dataset).__name__}:{len(dataset)}"


def cache_key(policy: Any, dataset: Any) -> str:
    cfg = policy.config
    desc = {
        "version": CACHE_VERSION,
        "vision": config_to_dict(cfg.vision),
        "cameras": list(cfg.cameras),
        "image_size": cfg.image_size,
        "data": dataset_fingerprint(dataset),
    }
    return hashlib.sha256(json.dumps(desc, sort_keys=True).encode()).hexdigest()[:16]


@torch.no_grad()
def compute_cache(policy: Any, dataset: Any, batch_size: int = 32, num_workers: int = 0) -> CachedDataset:
    """Run the frozen encoder once over ``dataset`` (in order); keep everything but the images."""
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=batch_size, shuffle=False, num_workers=num_workers, collate_fn=collate
    )
    tensors: dict[str, list[torch.Tensor]] = {}
    strings: dict[str, list[str]] = {}
    was_training = policy.training
    policy.eval()
    for batch in loader:
        feats = policy.encode_frozen(batch)
        feats["features.vision"] = feats["features.vision"].half()
        for key, value in batch.items():
            if key.startswith("observation.images."):
                continue
            if isinstance(value, torch.Tensor):
                tensors.setdefault(key, []).append(value)
            else:
                strings.setdefault(key, []).extend(value)
        for key, value in feats.items():
            tensors.setdefault(key, []).append(value.cpu())
    policy.train(was_training)
    return CachedDataset({k: cat_batches(v) for k, v in tensors.items()}, strings)


def cat_batches(batches: list[torch.Tensor]) -> torch.Tensor:
    """Concatenate batches float[B_i, ..., D_i] along dim 0; batches of different bodies differ in state
    (and universal action) width D_i: the narrower are zero-padded to the widest (as within a batch)."""
    if batches[0].ndim >= 2 and len({tuple(b.shape[1:]) for b in batches}) > 1:
        batches = pad_last(batches)
    return torch.cat(batches)  # (sum B_i, ..., max D_i)


def save_cache(cache: CachedDataset, path: Path) -> None:
    from safetensors.torch import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    save_file({k: v.contiguous() for k, v in cache.tensors.items()}, str(tmp))
    path.with_suffix(".json").write_text(json.dumps({"version": CACHE_VERSION, "strings": cache.strings}))
    tmp.replace(path)


def load_cache(path: Path) -> CachedDataset:
    from safetensors.torch import load_file

    meta = json.loads(path.with_suffix(".json").read_text())
    if meta.get("version") != CACHE_VERSION:
        raise ValueError(f"feature cache {path} has version {meta.get('version')}; delete it to rebuild")
    return CachedDataset(load_file(str(path)), meta["strings"])


def cached_dataset(policy: Any, dataset: Any, cache_dir: str | Path, batch_size: int = 32) -> CachedDataset:
    """The dataset with frozen features, loaded from ``cache_dir`` or computed and saved there."""
    path = Path(cache_dir) / f"features_{cache_key(policy, dataset)}.safetensors"
    if path.is_file() and path.with_suffix(".json").is_file():
        return load_cache(path)
    cache = compute_cache(policy, dataset, batch_size=batch_size)
    save_cache(cache, path)
    return cache


def nbytes(cache: CachedDataset) -> int:
    return int(sum(v.numel() * v.element_size() for v in cache.tensors.values()))
