import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread():
    """The machine's cores are shared: keep torch to one thread in these tests."""
    torch.set_num_threads(1)
