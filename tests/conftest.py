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
