"""The one simulation loop: a seed set, then rounds of query and teach.

``FairActiveClassifier.fit`` with ``budget > 0`` runs it; the demo, the
examples and the benchmarks run it through ``fit`` too, with
``initial_indices`` for a biased start and ``on_round`` to score each round.
"""

import time
from numbers import Integral

import numpy as np
from sklearn.utils import check_random_state

from ..utils import take_rows

# Round seeds are drawn below this bound (RandomState's largest int32 seed).
_MAX_SEED = 2**31 - 1


def round_seed(seed: int, round_: int) -> int:
    """The seed of round ``round_``'s query, derived from the fit's ``seed``.

    One rule for a simulation and an interactive loop alike: the same
    learner seed and round give the same picks, and a repeated query of a
    round (no ``teach`` in between) picks the same rows.
    """
    return int(np.random.RandomState([seed, round_]).randint(_MAX_SEED))


def _random_seed_set(y, classes, initial_size, rng) -> np.ndarray:
    n_samples = len(y)
    if isinstance(initial_size, Integral):
        size = int(initial_size)
    else:
        size = round(initial_size * n_samples)
    # On a small X (a cross-validation fold, say) the seed is all there is.
    size = min(size, n_samples)
    if size < len(classes):
        raise ValueError(
            f"initial_size={initial_size} gives {size} seed rows, fewer than the "
            f"{len(classes)} classes; the first fit needs one row per class."
        )
    # One row of each class first, so the first fit sees every class.
    firsts = [rng.choice(np.flatnonzero(y == c)) for c in classes]
    rest = np.setdiff1d(np.arange(n_samples), firsts)
    extra = rng.choice(rest, size=size - len(classes), replace=False)
    return np.concatenate([firsts, extra]).astype(np.intp)


def check_initial_indices(indices, y, classes) -> np.ndarray:
    """Validate a given seed set: distinct rows of X holding every class."""
    n_samples = len(y)
    array = np.asarray(indices)
    shape_error = ValueError(
        "initial_indices must be a non-empty 1-D array of integer row indices "
        f"into X (or a callable returning one), got {indices!r}."
    )
    if array.ndim != 1 or array.dtype.kind not in "iub":
        raise shape_error
    if array.dtype.kind == "b":
        if len(array) != n_samples:
            raise ValueError(
                f"initial_indices is a boolean mask of {len(array)} rows but X has "
                f"{n_samples}."
            )
        array = np.flatnonzero(array)
    if len(array) == 0:
        raise shape_error
    if array.min() < 0 or array.max() >= n_samples:
        raise ValueError(
            f"initial_indices must index the {n_samples} rows of X; got values "
            f"from {array.min()} to {array.max()}."
        )
    if len(np.unique(array)) != len(array):
        raise ValueError("initial_indices holds a row more than once.")
    missing = np.setdiff1d(classes, y[array])
    if len(missing):
        raise ValueError(
            f"initial_indices holds no row of class(es) {missing.tolist()}; the "
            "first fit needs every class."
        )
    return array.astype(np.intp)


def seed_set(learner, y, groups, rng) -> np.ndarray:
    """The rows of the first fit: ``initial_indices`` or a random draw."""
    given = learner.initial_indices
    if given is None:
        return _random_seed_set(y, learner.classes_, learner.initial_size, rng)
    if callable(given):
        given = given(y, groups, rng)
    return check_initial_indices(given, y, learner.classes_)


def batch_sizes(budget: int, batch_size: int, n_pool: int) -> list[int]:
    """Rows of each round: full batches, then the remainder."""
    # The budget is an upper bound: a pool smaller than it is labeled whole.
    budget = min(budget, n_pool)
    sizes = [batch_size] * (budget // batch_size)
    if budget % batch_size:
        sizes.append(budget % batch_size)
    return sizes


def _progress(learner, sizes):
    if not learner.verbose:
        return sizes
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm comes with skorch
        return sizes
    return tqdm(sizes, desc=f"active learning ({learner._strategy_name()})")


def _notify(learner, record) -> None:
    if learner.on_round is not None:
        learner.on_round(learner, record)


def simulate(learner, X, y, groups) -> None:
    """Run the simulation of ``learner.fit`` (``budget > 0``) on X, y."""
    rng = check_random_state(learner.seed_)
    start = time.perf_counter()
    labeled = seed_set(learner, y, groups, rng)
    in_pool = np.ones(len(y), dtype=bool)
    in_pool[labeled] = False
    learner.__dict__.update(
        learner._fitted_on(
            take_rows(X, labeled),
            y[labeled],
            None if groups is None else groups[labeled],
        )
        | learner._empty_postponed(X, y, groups)
    )
    learner.history_ = [learner._record(0, labeled, groups, start)]
    _notify(learner, learner.history_[-1])
    sizes = batch_sizes(learner.budget, learner.batch_size, int(in_pool.sum()))
    plan = {"n_rounds": len(sizes), "batch_size": learner.batch_size}
    for round_, size in enumerate(_progress(learner, sizes), start=1):
        start = time.perf_counter()
        pool = np.flatnonzero(in_pool)
        picks = learner._run_strategy(
            take_rows(X, pool),
            size,
            None if groups is None else groups[pool],
            plan=plan,
        )
        query_seconds = time.perf_counter() - start
        chosen = pool[picks]
        in_pool[chosen] = False
        learner.__dict__.update(
            learner._absorbed(
                take_rows(X, chosen),
                y[chosen],
                None if groups is None else groups[chosen],
            )
        )
        record = learner._record(round_, chosen, groups, start)
        learner.history_.append(record | {"query_seconds": query_seconds})
        _notify(learner, learner.history_[-1])
