"""One checkpoint helper: a directory with format-versioned JSON metadata and safetensors weights.

Every saver in hivla (policies, processor assets, action tokenizers and experts, world models, the
learned planner, the subtask monitor, training checkpoints) describes its files with a
:class:`CheckpointFormat` and reads them back through it, so a wrong or unreadable version always
raises :class:`CheckpointFormatError` with the same message shape::

    <meta file>: found format 'hivla.policy' format_version 2, expected 'hivla.policy' format_version 1.
    <what to do>

Torch and safetensors are imported only when weights are written or read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hivla.errors import HivlaError

LATEST_FILE = "latest"  # in <run>/checkpoints/: the name of the newest checkpoint directory


def latest_in_run(run: str | Path) -> Path | None:
    """The checkpoint ``<run>/checkpoints/latest`` names, or None when the run has none."""
    latest = Path(run) / "checkpoints" / LATEST_FILE
    return latest.parent / latest.read_text().strip() if latest.is_file() else None


class CheckpointFormatError(HivlaError, ValueError):
    """A checkpoint's metadata names another format, or a version this hivla cannot read."""


@dataclass(frozen=True)
class CheckpointFormat:
    """The metadata file of one kind of checkpoint directory.

    name: the ``"format"`` value written into the metadata (e.g. ``"hivla.policy"``).
    version: the ``"format_version"`` this hivla writes and reads.
    meta_file: the JSON file name inside the directory.
    what: what such a directory holds, in words (named in error messages), e.g. "policy checkpoint".
    writer: what writes such a directory (named in error messages), e.g. ```hivla train```.
    unnamed_ok: accept metadata without a ``"format"`` key (files written before it was added).
    indent: JSON indentation of the metadata file.
    """

    name: str
    version: int
    meta_file: str
    what: str
    writer: str
    unnamed_ok: bool = False
    indent: int = 2

    def __post_init__(self) -> None:
        if self.version < 1 or not self.name or not self.meta_file:
            raise ValueError(f"a checkpoint format needs a name, a meta file and a version >= 1: {self}")

    def meta_path(self, directory: str | Path) -> Path:
        return Path(directory) / self.meta_file

    def resolve(self, path: str | Path, command: str) -> Path:
        """``path`` if it is such a checkpoint, else the latest checkpoint of the training run
        ``path`` (``command``'s --out directory). Raises FileNotFoundError."""
        p = Path(path)
        if self.meta_path(p).is_file():
            return p
        ckpt = latest_in_run(p)
        if ckpt is not None and self.meta_path(ckpt).is_file():
            return ckpt
        raise FileNotFoundError(
            f"{p} is neither a {self.what} (no {self.meta_file}) nor a training run directory "
            f"(no checkpoints/{LATEST_FILE}); pass the --out directory of {command} or one of its checkpoints"
        )

    def write_meta(self, directory: str | Path, fields: dict[str, Any]) -> Path:
        """Write ``{"format", "format_version", **fields}`` into ``directory`` (created); return the file."""
        path = self.meta_path(directory)
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = {"format": self.name, "format_version": self.version, **fields}
        path.write_text(json.dumps(meta, indent=self.indent))
        return path

    def read_meta(self, directory: str | Path) -> dict[str, Any]:
        """The metadata of ``directory`` after checking its format and version.

        Raises FileNotFoundError when the file is missing, CheckpointFormatError when it names
        another format or version."""
        path = self.meta_path(directory)
        if not path.is_file():
            raise FileNotFoundError(
                f"no {self.meta_file} in {Path(directory)}: not a {self.what} directory; "
                f"pass one written by {self.writer}"
            )
        meta = json.loads(path.read_text())
        self.check(meta, path)
        return meta

    def check(self, meta: dict[str, Any], path: Path) -> None:
        """Raise CheckpointFormatError unless ``meta`` (read from ``path``) is this format and version."""
        found = meta.get("format", self.name if self.unnamed_ok else None)
        version = meta.get("format_version")
        if found == self.name and version == self.version:
            return
        if found != self.name:
            advice = f"It is not a {self.what}: pass a directory written by {self.writer}."
        elif isinstance(version, int) and version > self.version:
            advice = "A newer hivla wrote it: upgrade hivla to read it."
        else:
            advice = f"Load it with the hivla version that wrote it, or write it again with {self.writer}."
        raise CheckpointFormatError(
            f"{path}: found format {found!r} format_version {version}, expected {self.name!r} "
            f"format_version {self.version}. {advice}"
        )


def save_weights(state: dict[str, Any], path: str | Path) -> Path:
    """Write a state dict (tensors, moved to CPU and made contiguous) as one safetensors file."""
    from safetensors.torch import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.detach().cpu().contiguous() for k, v in state.items()}, str(path))
    return path


def load_weights(path: str | Path, device: Any = "cpu") -> dict[str, Any]:
    """Read a safetensors file written by :func:`save_weights` onto ``device``."""
    from safetensors.torch import load_file

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: the checkpoint directory is incomplete; save it again")
    return load_file(str(path), device=str(device))
