"""Transform steps and pipelines: small frozen steps that map a sample dict to a new dict.

A step never mutates its input: it copies the dict and replaces the values it changes. Random
steps carry ``train``; :meth:`Pipeline.eval` turns them deterministic for serving, so training and
serving run the same steps in the same order.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

Sample = dict[str, Any]


class Transform(Protocol):
    def __call__(self, data: Sample) -> Sample: ...


@dataclass(frozen=True)
class Pipeline:
    """Steps applied in order."""

    steps: tuple[Callable[[Sample], Sample], ...] = ()

    def __post_init__(self) -> None:
        bad = [s for s in self.steps if not callable(s)]
        if bad:
            raise TypeError(f"pipeline steps must be callables (data) -> data, got {bad}")

    def __call__(self, data: Sample) -> Sample:
        for step in self.steps:
            data = step(data)
        return data

    def eval(self) -> Pipeline:
        """The same steps with random augmentation switched to its deterministic eval form."""
        return Pipeline(tuple(_eval_step(s) for s in self.steps))


def _eval_step(step: Any) -> Any:
    if dataclasses.is_dataclass(step) and any(f.name == "train" for f in dataclasses.fields(step)):
        return dataclasses.replace(step, train=False)
    return step


@dataclass(frozen=True)
class Transforms:
    """The input pipeline (dataset/env -> model) and output pipeline (model -> env/actions)."""

    inputs: Pipeline = Pipeline()
    outputs: Pipeline = Pipeline()

    def eval(self) -> Transforms:
        return Transforms(self.inputs.eval(), self.outputs.eval())


def present(data: Sample, keys: tuple[str, ...], strict: bool, step: str) -> list[str]:
    """The ``keys`` found in ``data``; with ``strict`` a missing key raises KeyError."""
    missing = [k for k in keys if k not in data]
    if strict and missing:
        raise KeyError(f"{step}: keys {missing} are missing; the sample has {sorted(data)}")
    return [k for k in keys if k in data]
