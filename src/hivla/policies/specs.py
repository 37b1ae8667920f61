"""One registry and one loader of policy specs: the strings ``--policy`` takes everywhere.

``load_rollout_policy(spec)`` resolves, in order:

1. a registered name (``expert``, ``random``; ``subtask-expert`` from :mod:`hivla.planning`),
2. a registered prefix (``hierarchical:low=...,planner=...,monitor=...`` from :mod:`hivla.planning`;
   ``ws://HOST:PORT``, a policy server, and ``onnx:DIR``, an exported policy, from :mod:`hivla.serving`),
3. an existing run/checkpoint directory (:func:`hivla.policies.load_policy`),
4. ``package.module:factory`` (a callable returning a policy; for plug-ins and tests).

Packages above ``hivla.policies`` register their names and prefixes with
:func:`register_rollout_policy`; the modules that do so for hivla's own packages are listed in
:data:`PLUGIN_MODULES` and imported on the first lookup of a name not registered yet (so ``expert`` and
``random`` load without them, and without torch).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hivla.policies.runtime import PolicyLoadError, RolloutPolicy, as_rollout_policy
from hivla.registry import Registry

SpecLoader = Callable[[str], RolloutPolicy]

# name or prefix (ending in ":") -> a loader taking the whole spec string
ROLLOUT_POLICIES: Registry[SpecLoader] = Registry("rollout policy")
PLUGIN_MODULES = (
    "hivla.policies.builtin",
    "hivla.planning.skills",
    "hivla.planning.spec",
    "hivla.serving.client",  # ws://HOST:PORT: a policy served by `hivla serve`
    "hivla.serving.onnx",  # onnx:DIR: a policy exported by `hivla export --format onnx`
)


def register_rollout_policy(name: str) -> Callable[[Any], Any]:
    """Register a policy class (built with no arguments) under ``name``, or, when ``name`` ends in
    ``":"``, a loader ``f(spec) -> RolloutPolicy`` for every spec starting with that prefix."""

    def decorator(obj: Any) -> Any:
        ROLLOUT_POLICIES.add(name, obj if name.endswith(":") else (lambda _spec: obj()))
        return obj

    return decorator


def rollout_policy_names() -> list[str]:
    """Every registered name and prefix (plug-ins loaded)."""
    _load_plugins()
    return ROLLOUT_POLICIES.names()


def load_rollout_policy(spec: str) -> RolloutPolicy:
    """A policy spec -> :class:`RolloutPolicy`. Raises :class:`PolicyLoadError` for a spec naming nothing
    loadable (with what exists), or the registered loader's own error for a malformed spec."""
    loader = _registered(spec)
    if loader is None:  # not among what is imported yet: bring in the plug-ins (planning, ...) once
        _load_plugins()
        loader = _registered(spec)
    if loader is not None:
        return loader(spec)
    path = Path(spec)
    if path.is_dir():
        from hivla.policies import load_policy  # the trainable policies, imported on first use

        return as_rollout_policy(load_policy(path), name=str(path))
    if ":" in spec and not path.exists():
        return _load_factory(spec)
    names = ", ".join(n for n in ROLLOUT_POLICIES.names() if not n.endswith(":"))
    prefixes = ", ".join(f"{n}..." for n in ROLLOUT_POLICIES.names() if n.endswith(":"))
    raise PolicyLoadError(
        f"unknown policy {spec!r}: not a built-in ({names}), not an existing run/checkpoint directory, "
        f"not {prefixes} and not package.module:factory. Pass one of those "
        "(a typo in the run directory's path is the usual cause)."
    )


def _registered(spec: str) -> SpecLoader | None:
    """The loader registered for ``spec`` (its name, or its prefix up to the first ":"), if any."""
    if spec in ROLLOUT_POLICIES:
        return ROLLOUT_POLICIES.get(spec)
    prefix = spec.partition(":")[0] + ":"
    return ROLLOUT_POLICIES.get(prefix) if ":" in spec and prefix in ROLLOUT_POLICIES else None


def _load_factory(spec: str) -> RolloutPolicy:
    module_name, _, attr = spec.partition(":")
    try:
        factory = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as err:
        raise PolicyLoadError(
            f"policy {spec!r}: cannot import {attr!r} from module {module_name!r} ({err}); "
            "expected package.module:factory naming a callable that returns a policy"
        ) from None
    return as_rollout_policy(factory(), name=spec)


def _load_plugins() -> None:
    for module in PLUGIN_MODULES:
        importlib.import_module(module)
