"""Row chunks for scoring: bounded memory, and parallel through joblib."""

from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed
from sklearn import get_config
from sklearn.utils.validation import _num_samples

from ._rows import take_rows

# At most this many rows per chunk, whatever working_memory allows: with the
# default 1 GiB, a few features would otherwise give one chunk of millions of
# rows, and nothing to share among jobs.
MAX_CHUNK_ROWS = 2**16


def chunk_slices(n_rows: int, row_bytes: float) -> list[slice]:
    """The consecutive row slices that skfairal scores an X of ``n_rows`` rows in.

    A chunk holds as many rows as fit in scikit-learn's ``working_memory``
    (set with :func:`sklearn.config_context`, 1024 MiB by default) at
    ``row_bytes`` bytes a row, at most 65,536 and at least one.

    The boundaries depend on ``n_rows``, ``row_bytes`` and ``working_memory``
    only, never on the number of jobs or the joblib backend: every job count
    and every backend (dask on a cluster too) hands the base estimator the
    same blocks of rows, so a deterministic estimator's parallel scores are
    its serial ones, bit for bit, not merely close.

    Parameters
    ----------
    n_rows : int
        Rows of X, 0 or more.
    row_bytes : float
        Estimated memory that scoring one row takes, in bytes; above 0.

    Returns
    -------
    slices : list of slice
        ``slice(start, stop)`` with step None, in order, covering
        ``0 .. n_rows`` exactly once; empty when ``n_rows`` is 0.

    Examples
    --------
    >>> import sklearn
    >>> from skfairal.utils import chunk_slices
    >>> chunk_slices(5, row_bytes=8)
    [slice(0, 5, None)]
    >>> with sklearn.config_context(working_memory=16 / 2**20):  # 16 bytes
    ...     chunk_slices(5, row_bytes=8)
    [slice(0, 2, None), slice(2, 4, None), slice(4, 5, None)]
    """
    if isinstance(n_rows, bool) or not isinstance(n_rows, Integral) or n_rows < 0:
        raise ValueError(f"n_rows must be an integer >= 0, got {n_rows!r}.")
    if (
        isinstance(row_bytes, bool)
        or not isinstance(row_bytes, Real)
        or not np.isfinite(row_bytes)
        or row_bytes <= 0
    ):
        raise ValueError(f"row_bytes must be a finite number > 0, got {row_bytes!r}.")
    n_rows = int(n_rows)
    # Nothing here may read n_jobs or the joblib backend (see above): bit-equal
    # serial and parallel results rest on it.
    if n_rows == 0:
        return []
    # sklearn.utils.get_chunk_n_rows is private (sklearn.utils._chunking) and
    # warns when one row exceeds working_memory: the same rule, read from the
    # same setting, with one row a chunk as the floor and no warning.
    fits = int(get_config()["working_memory"] * 2**20 // row_bytes)
    size = max(1, min(MAX_CHUNK_ROWS, n_rows, fits))
    return [slice(start, min(start + size, n_rows)) for start in range(0, n_rows, size)]


def map_row_chunks(func, X, *, row_bytes: float, n_jobs: int | None = None) -> list:
    """``func`` applied to each chunk of rows of X, in parallel through joblib.

    X is cut into the chunks of :func:`chunk_slices`. With more than one
    chunk, the calls go through ``joblib.Parallel(n_jobs=n_jobs)``: threads by
    default (scoring mostly runs in numpy, BLAS or compiled code that
    releases the GIL, and threads copy neither the chunks nor ``func``'s
    estimator), or whatever backend is active, such as
    ``joblib.parallel_config(backend="dask")``, which runs the chunks on a
    dask cluster. With a single chunk (or rows that cannot be counted),
    ``func(X)`` is called on X itself, directly.

    The results do not depend on ``n_jobs`` or on the backend: the chunks
    never do.

    Parameters
    ----------
    func : callable
        Takes rows of X (of X's kind) and returns a result for them, such as
        a fitted estimator's ``predict_proba``. Under a process or cluster
        backend it must pickle.
    X : array-like, sparse matrix, DataFrame, Series or list
        The rows, as :func:`sklearn.utils._safe_indexing` takes them.
    row_bytes : float
        Estimated memory that ``func`` takes per row, in bytes; it sets the
        chunk length together with scikit-learn's ``working_memory``.
    n_jobs : int or None, default=None
        Parallel jobs; None leaves the number (and the backend) to an active
        ``joblib.parallel_config``, else one job.

    Returns
    -------
    results : list
        ``func``'s result for each chunk, in row order; one element when X is
        a single chunk.

    Examples
    --------
    >>> import numpy as np
    >>> import sklearn
    >>> from skfairal.utils import map_row_chunks
    >>> X = np.arange(10.0).reshape(5, 2)
    >>> with sklearn.config_context(working_memory=32 / 2**20):  # 2 rows a chunk
    ...     parts = map_row_chunks(np.sum, X, row_bytes=16, n_jobs=2)
    >>> [float(p) for p in parts]
    [6.0, 22.0, 17.0]
    """
    try:
        n_rows = _num_samples(X)
    except TypeError:
        # Not something with rows: func's own validation says what is wrong.
        return [func(X)]
    slices = chunk_slices(n_rows, row_bytes)
    if len(slices) <= 1:
        # Also for 0 rows. One call needs no pool: joblib's dispatch would cost
        # more than scoring a small X.
        return [func(X)]
    return Parallel(n_jobs=n_jobs, prefer="threads")(
        delayed(func)(take_rows(X, rows)) for rows in slices
    )
