"""Every suite, built-in and external, behind one lookup; which embodiments each runs; gymnasium ids.

Built-in suites (``SUITES``) run any registered embodiment (``EMBODIMENTS``) in the tabletop env, but
a suite that ``needs_base`` (``tabletop-mobile``) only those with a wheeled base;
an external suite (``hivla.sim.adapters.EXTERNAL_SUITES``) runs its benchmark's own robot only.
Every suite is also a gymnasium id ``hivla/<suite>-v<version>``::

    import gymnasium, hivla.sim
    env = gymnasium.make("hivla/tabletop-chain-3-v1", embodiment="arm6")
"""

from __future__ import annotations

import difflib
from typing import Any

import gymnasium as gym
import numpy as np

from hivla.errors import HivlaError
from hivla.registry import UnknownNameError
from hivla.sim.adapters.base import EXTERNAL_SUITES, ExternalSuite, register_gym_id
from hivla.sim.embodiments import EMBODIMENTS, base_mismatch
from hivla.sim.suites import SUITES, Suite


class EmbodimentMismatchError(HivlaError, ValueError):
    """An embodiment the suite cannot run."""


def suite_names() -> list[str]:
    """Every registered suite, built-in then external."""
    return [*SUITES.names(), *EXTERNAL_SUITES.names()]


def is_external(suite: str) -> bool:
    return suite in EXTERNAL_SUITES


def get_suite(name: str) -> Suite | ExternalSuite:
    """The suite called ``name``; an unknown name lists every suite and the closest."""
    if name in SUITES:
        return SUITES.get(name)
    if name in EXTERNAL_SUITES:
        return EXTERNAL_SUITES.get(name)
    names = suite_names()
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.5)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise UnknownNameError(f"unknown suite {name!r}; available: {', '.join(names)}.{hint}")


def embodiments_of(suite: str) -> list[str]:
    """The embodiments ``suite`` runs."""
    s = get_suite(suite)
    if isinstance(s, ExternalSuite):
        return [s.robot.name]
    return [n for n in EMBODIMENTS.names() if base_mismatch(s.name, s.needs_base, n) is None]


def check_embodiment(suite: str, embodiment: str) -> None:
    """Raise :class:`EmbodimentMismatchError` (or an unknown-name error) unless ``suite`` runs ``embodiment``."""
    s = get_suite(suite)
    if isinstance(s, ExternalSuite):
        if embodiment != s.robot.name:
            raise EmbodimentMismatchError(
                f"suite {suite} runs its benchmark's robot {s.robot.name!r}, not embodiment {embodiment!r}; "
                f"pass --embodiment {s.robot.name}"
            )
        return
    if embodiment in EMBODIMENTS:
        if why := base_mismatch(suite, s.needs_base, embodiment):
            raise EmbodimentMismatchError(why)
        return
    robots = {e.robot.name: n for n, e in EXTERNAL_SUITES.items()}
    if embodiment in robots:
        raise EmbodimentMismatchError(
            f"embodiment {embodiment!r} is the robot of external suites such as {robots[embodiment]}; the "
            f"built-in suite {suite} runs {', '.join(EMBODIMENTS.names())}"
        )
    EMBODIMENTS.get(embodiment)  # unknown: lists what exists


def embodiment_info(name: str) -> Any:
    """An object with ``name``, ``description``, ``action_names``, ``state_names``, ``action_dim``,
    ``state_dim`` for a built-in embodiment or an external suite's robot."""
    if name in EMBODIMENTS:
        return EMBODIMENTS.get(name)()
    for _, suite in EXTERNAL_SUITES.items():
        if suite.robot.name == name:
            return suite.robot
    names = [*EMBODIMENTS.names(), *sorted({s.robot.name for _, s in EXTERNAL_SUITES.items()})]
    raise UnknownNameError(f"unknown embodiment {name!r}; available: {', '.join(names)}")


def make_env(suite: str = "tabletop-single", embodiment: str | None = "floating", **kwargs: Any):
    """The env of any suite: :class:`~hivla.sim.env.TabletopEnv` for a built-in suite (see it for the
    keyword arguments; None picks the floating hand, or ``mobile`` where a base is needed),
    :class:`~hivla.sim.adapters.env.ExternalEnv` for an external one (its robot is the only
    embodiment; None picks it)."""
    if is_external(suite):
        from hivla.sim.adapters.env import ExternalEnv

        return ExternalEnv(suite, embodiment, **kwargs)
    from hivla.sim.env import TabletopEnv

    if embodiment is None:  # the floating hand, or the first body that can run the suite (a base)
        able = embodiments_of(suite)
        embodiment = "floating" if "floating" in able else able[0]
    return TabletopEnv(suite=suite, embodiment=embodiment, **kwargs)


# ---- gymnasium -----------------------------------------------------------------------------------
def gym_id(suite: str) -> str:
    return f"hivla/{suite}-v{get_suite(suite).version}"


class GymEnv(gym.Env):
    """A hivla env as plain gymnasium sees it (what ``gymnasium.make("hivla/...")`` builds).

    It forwards ``reset``/``step``/``render``/``close`` and the spaces to the hivla env (``.env``),
    keeping gymnasium's own ``spec`` attribute free for its registry.
    """

    metadata = {"render_modes": ["rgb_array"]}  # noqa: RUF012

    def __init__(
        self, suite: str, embodiment: str | None = None, render_mode: str | None = "rgb_array", **kwargs
    ):
        self.env = make_env(suite, embodiment, **kwargs)
        self.action_space, self.observation_space = self.env.action_space, self.env.observation_space
        self.render_mode = render_mode
        self.metadata = {"render_modes": ["rgb_array"], "render_fps": self.env.fps}

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        if seed is None:
            seed = int(self.np_random.integers(2**31))
        return self.env.reset(seed=seed, options=options)

    def step(self, action: np.ndarray):
        return self.env.step(action)

    def render(self) -> np.ndarray:
        return self.env.render()

    def close(self) -> None:
        self.env.close()


def register_gym_ids() -> list[str]:
    """Register every suite not yet registered with gymnasium; return all the ids."""
    return [register_gym_id(name, get_suite(name).version) for name in suite_names()]
