"""Shared test configuration."""

import sys

import pytest
from threadpoolctl import threadpool_limits


@pytest.fixture(autouse=True)
def _one_thread_per_worker():
    # The suite runs in two xdist workers on two cores: multi-threaded BLAS or
    # torch would oversubscribe them and slow tiny fits several times over.
    torch = sys.modules.get("torch")
    torch_threads = torch.get_num_threads() if torch is not None else None
    if torch is not None:
        torch.set_num_threads(1)
    with threadpool_limits(limits=1):
        yield
    if torch is not None:
        torch.set_num_threads(torch_threads)
