"""The one top-k selection every query strategy shares."""

import numpy as np
from sklearn.utils import check_random_state


def select_top_k(utilities, n_instances: int, *, random_state=None) -> np.ndarray:
    """Indices of the ``n_instances`` largest utilities, best first.

    Ties are broken at random, reproducibly for a given ``random_state``: the
    pool is shuffled once and equal utilities keep their shuffled order. This
    matters because many utilities tie (every candidate of a group in
    group-aware sampling, say), and taking the first rows would favour
    whatever order the pool happens to be in.

    Parameters
    ----------
    utilities : array-like of shape (n_pool,)
        One utility per pool row; larger is better. NaN is an error.
    n_instances : int
        How many rows to select, between 1 and ``n_pool``.
    random_state : int, RandomState instance or None, default=None
        Seed of the tie-breaking shuffle.

    Returns
    -------
    indices : ndarray of shape (n_instances,), dtype=intp
        Unique row indices, best first.

    Examples
    --------
    >>> from skfairal.utils import select_top_k
    >>> select_top_k([0.1, 0.9, 0.5, 0.7], 2)
    array([1, 3])
    >>> select_top_k([1.0, 1.0, 1.0, 0.0], 2, random_state=0)
    array([1, 2])
    """
    utilities = np.asarray(utilities, dtype=np.float64)
    if utilities.ndim != 1:
        raise ValueError(
            f"utilities must be 1-D (one per pool row), got shape {utilities.shape}."
        )
    n_pool = utilities.shape[0]
    if np.isnan(utilities).any():
        raise ValueError("utilities contain NaN; a strategy must score every row.")
    if not 1 <= n_instances <= n_pool:
        raise ValueError(
            f"n_instances={n_instances} must be between 1 and the pool size {n_pool}."
        )
    rng = check_random_state(random_state)
    negated = -utilities
    if n_instances < n_pool:
        # Linear in the pool size and no random draw per pool row: only the
        # rows tied with the k-th value are sampled, uniformly.
        kth = np.partition(negated, n_instances - 1)[n_instances - 1]
        better = np.flatnonzero(negated < kth)
        tied = np.flatnonzero(negated == kth)
        need = n_instances - len(better)
        if need < len(tied):
            tied = tied[rng.choice(len(tied), need, replace=False)]
        candidates = np.concatenate([better, tied])
    else:
        candidates = np.arange(n_pool)
    # lexsort's last key is primary: utility first, a random key breaks ties.
    keys = rng.random_sample(len(candidates))
    best = candidates[np.lexsort((keys, negated[candidates]))]
    return best.astype(np.intp, copy=False)
