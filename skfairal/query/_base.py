"""Argument checks and pool scoring shared by the query strategies."""

from numbers import Integral

import numpy as np
from sklearn.utils.validation import _num_samples, check_is_fitted

from ..utils import check_sensitive_features


def check_query_args(learner, X_pool, n_instances) -> int:
    """Check the arguments every strategy receives; return the pool size.

    Raises
    ------
    NotFittedError
        If ``learner`` is not fitted.
    ValueError
        If the pool is empty or ``n_instances`` is not an integer in
        ``[1, n_pool]``.
    """
    check_is_fitted(learner)
    if X_pool is None:
        raise ValueError("X_pool is None: pass the unlabeled rows to choose from.")
    try:
        n_pool = _num_samples(X_pool)
    except TypeError as exc:
        raise ValueError(
            f"X_pool must be array-like with one row per sample: {exc}"
        ) from exc
    if n_pool == 0:
        raise ValueError("X_pool is empty: there is nothing left to query.")
    if isinstance(n_instances, bool) or not isinstance(n_instances, Integral):
        raise ValueError(f"n_instances must be an integer, got {n_instances!r}.")
    if n_instances < 1:
        raise ValueError(f"n_instances must be at least 1, got {n_instances}.")
    if n_instances > n_pool:
        raise ValueError(
            f"n_instances={n_instances} is larger than the pool: X_pool has "
            f"{n_pool} rows."
        )
    return n_pool


def pool_proba(learner, X_pool) -> np.ndarray:
    """``learner.predict_proba(X_pool)``, checked to be finite probabilities."""
    if not hasattr(learner, "predict_proba"):
        raise TypeError(
            f"{type(learner).__name__} has no predict_proba, which this strategy "
            "needs; use a base estimator with predict_proba (for SVC: "
            "probability=True)."
        )
    proba = np.asarray(learner.predict_proba(X_pool), dtype=np.float64)
    if proba.ndim != 2 or not np.all(np.isfinite(proba)):
        raise ValueError(
            "predict_proba returned non-finite or non-2-D values; the base "
            "estimator's probabilities cannot be scored."
        )
    return proba


def check_fairness_set(fairness_set, classes, *, alternatives: str = ""):
    """Validate a labeled validation set ``(X_val, y_val, sensitive_features_val)``.

    ``y_val`` may be None (the caller decides whether its metric needs
    labels); when given it must hold one label per row, all among the
    learner's ``classes``. ``alternatives`` names other accepted values in the
    error message (FAL also accepts ``"pool"``).

    Returns
    -------
    X_val : array-like
        The rows, unchanged.
    encoding : GroupEncoding
        The validated groups of the rows.
    y_codes : ndarray of int or None
        ``y_val`` as indices into ``classes``.
    """
    if len(fairness_set) != 3:
        raise ValueError(
            f"fairness_set must be {alternatives}a tuple (X_val, y_val, "
            f"sensitive_features_val), got a tuple of {len(fairness_set)}."
        )
    X_val, y_val, groups_val = fairness_set
    n_val = _num_samples(X_val)
    encoding = check_sensitive_features(
        groups_val, n_val, name="sensitive_features_val"
    )
    if y_val is None:
        return X_val, encoding, None
    y_val = np.asarray(y_val)
    if y_val.ndim != 1 or len(y_val) != n_val:
        raise ValueError(
            f"y_val must hold one label per row of X_val ({n_val} rows), got "
            f"shape {y_val.shape}."
        )
    classes = np.asarray(classes)
    unseen = [v for v in np.unique(y_val).tolist() if v not in classes.tolist()]
    if unseen:
        raise ValueError(
            f"y_val contains label(s) {unseen} that are not the learner's "
            f"classes {classes.tolist()}."
        )
    return X_val, encoding, np.searchsorted(classes, y_val).astype(np.int64)
