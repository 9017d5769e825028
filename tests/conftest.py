"""Shared test configuration."""

import os
import sys

# torch picks its CPU kernels by the machine's instruction set, and AVX-512
# kernels round differently from AVX2 ones: enough to move a meta-trained
# PANDA policy and the figures its tests were measured with (on an AVX-512
# machine PANDA's DP on the synthetic problem of test_panda.py is 0.228
# against entropy's 0.221, 0.207 with AVX2 kernels). The suite asks for the
# AVX2 kernels that every x86-64 machine it runs on has; torch reads this
# when it is first imported, which no module does before this file.
os.environ.setdefault("ATEN_CPU_CAPABILITY", "avx2")

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


def _group_boundary_problem(n_samples, seed, *, minority=0.2, angle=1.2):
    """Two groups whose true decision boundaries differ by ``angle`` radians.

    A single linear model cannot fit both, so it fits the majority and errs
    on the minority: the gap in errors is reducible by labeling the right
    rows, unlike a gap in base rates or label noise.
    """
    import numpy as np

    rng = np.random.RandomState(seed)
    groups = (rng.rand(n_samples) < minority).astype(int)
    X = rng.randn(n_samples, 2)
    normal = np.where(groups[:, None] == 0, [1.0, 0.0], [np.cos(angle), np.sin(angle)])
    y = ((X * normal).sum(axis=1) + 0.3 * rng.randn(n_samples) > 0).astype(int)
    return X, y, groups


@pytest.fixture
def group_boundary_problem():
    """Generator of :func:`_group_boundary_problem` data."""
    return _group_boundary_problem
