import os

import pytest

os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("OMP_NUM_THREADS", "1")

try:
    import torch

    torch.set_num_threads(1)
except ImportError:  # pragma: no cover
    pass


@pytest.fixture(autouse=True)
def _skip_embodiments_not_installed(request):
    """A test parametrized over embodiments (``emb``) skips one whose optional extra is missing, saying
    which extra to install (e.g. ``panda`` needs ``hivla[robots]``)."""
    callspec = getattr(request.node, "callspec", None)
    emb = callspec.params.get("emb") if callspec else None
    if emb:
        from hivla.sim import EMBODIMENTS

        if emb in EMBODIMENTS and (reason := EMBODIMENTS.get(emb).missing()):
            pytest.skip(reason)


@pytest.fixture(scope="module")
def single_envs():
    """``get(emb)``: one physics-only ``tabletop-single`` env per embodiment, made when first asked (so
    a test of an embodiment whose extra is missing is skipped before any env is made), closed after
    the module."""
    from hivla.sim import make_env

    made = {}

    def get(emb):
        if emb not in made:
            made[emb] = make_env("tabletop-single", emb, render=False)
        return made[emb]

    yield get
    for env in made.values():
        env.close()
