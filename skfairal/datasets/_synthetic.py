"""Synthetic classification problems whose labels and features depend on a group."""

from collections.abc import Sequence
from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state

__all__ = ["make_biased_classification"]

_PROPORTION_TOL = 1e-8


def _check_int(value, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


def _check_real(value, name: str, *, nonnegative: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not np.isfinite(value):
        raise ValueError(f"{name} must be a finite real number, got {value!r}.")
    if nonnegative and value < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}.")
    return float(value)


def _check_per_group(values, name: str, n_groups: int) -> np.ndarray:
    """One probability per group; a scalar is used for every group."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must be a number or a sequence of numbers, got {values!r}."
        ) from None
    if array.ndim == 0:
        array = np.full(n_groups, float(array))
    if array.ndim != 1 or array.size != n_groups:
        raise ValueError(
            f"{name} must give one value per group: group_proportions defines "
            f"{n_groups} groups, got {values!r}."
        )
    if not np.all(np.isfinite(array)) or np.any((array < 0) | (array > 1)):
        raise ValueError(f"{name} must lie in [0, 1], got {values!r}.")
    return array


def _check_proportions(group_proportions) -> np.ndarray:
    try:
        array = np.asarray(group_proportions, dtype=np.float64)
    except (TypeError, ValueError):
        array = None
    if array is None or array.ndim != 1 or array.size == 0:
        raise ValueError(
            "group_proportions must be a non-empty sequence of numbers (one per "
            f"group), got {group_proportions!r}."
        )
    if not np.all(np.isfinite(array)) or np.any(array <= 0):
        raise ValueError(
            f"group_proportions must be positive, got {group_proportions!r}."
        )
    if abs(array.sum() - 1.0) > _PROPORTION_TOL:
        raise ValueError(
            f"group_proportions must sum to 1 (within {_PROPORTION_TOL:g}), got "
            f"{group_proportions!r} (sum {array.sum():.10g})."
        )
    # Only rounding residue is left to remove.
    return array / array.sum()


def _largest_remainder(total: int, proportions: np.ndarray) -> np.ndarray:
    """Integer counts summing to ``total``, each as close to its share as possible."""
    shares = total * proportions
    counts = np.floor(shares).astype(np.int64)
    # Stable sort: ties go to the earlier group, so counts never depend on luck.
    order = np.argsort(-(shares - counts), kind="stable")
    counts[order[: total - counts.sum()]] += 1
    return counts


def make_biased_classification(
    n_samples: int = 1000,
    *,
    n_features: int = 5,
    group_proportions: Sequence[float] = (0.7, 0.3),
    base_rates: Sequence[float] | float = (0.5, 0.2),
    label_noise: Sequence[float] | float = (0.0, 0.1),
    group_shift: float = 1.0,
    class_sep: float = 1.0,
    random_state: int | np.random.RandomState | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Generate a binary classification problem that is biased across groups.

    Each sample belongs to one of ``G = len(group_proportions)`` groups. The
    groups differ in three ways a fairness method has to cope with:

    - **base rates**: the share of positive labels in group ``g`` is
      ``base_rates[g]``;
    - **label noise**: in group ``g``, a share ``label_noise[g]`` of the
      labels disagrees with the class the sample's features were drawn from
      (as if its labels had been recorded with errors);
    - **a proxy feature**: the last feature's mean shifts with the group, so a
      model can infer the group from it even when the group is not a feature.

    The features are Gaussian with unit variance. The first
    ``n_features - 1`` carry the class: their mean is ``+class_sep / sqrt(d)``
    for class 1 and ``-class_sep / sqrt(d)`` for class 0 (``d = n_features -
    1``), so the two class means lie ``2 * class_sep`` apart. The last one
    carries the group: its mean is ``group_shift * (2 * g - (G - 1))``, so
    with two groups the proxy means lie at ``-group_shift`` and
    ``+group_shift``, as the class means lie ``class_sep`` from the origin.
    A classifier trained on such data selects the groups at clearly
    different rates (a nonzero demographic-parity difference).

    Group sizes and the number of positives in each group are exact (rounded
    to integers by largest remainder and to the nearest integer), so small
    samples still show the requested proportions; which labels are noisy is
    random.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of samples.
    n_features : int, default=5
        Number of features, at least 2 (class features plus the proxy).
    group_proportions : sequence of float, default=(0.7, 0.3)
        Share of each group; its length sets the number of groups. The shares
        must be positive and sum to 1 within 1e-8 (they are not normalised
        silently: a sum far from 1 is almost always a mistake).
    base_rates : float or sequence of float, default=(0.5, 0.2)
        ``P(y = 1 | group = g)`` for each group, in [0, 1]; a scalar applies
        to every group.
    label_noise : float or sequence of float, default=(0.0, 0.1)
        For each group, the probability, in [0, 1], that a sample's features
        come from the other class than its label. It lowers how well the
        features predict the label in that group without changing the
        group's base rate. A scalar applies to every group.
    group_shift : float, default=1.0
        Half the distance between the means of consecutive groups on the
        proxy feature (the proxy's strength); 0 makes the features
        independent of the group given the class.
    class_sep : float, default=1.0
        Half the distance between the two class means, >= 0.
    random_state : int, RandomState instance or None, default=None
        Seed for reproducible output.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), dtype=float64
        Features; the last column is the group proxy.
    y : ndarray of shape (n_samples,), dtype=int64
        Binary labels, 0 or 1.
    sensitive_features : ndarray of shape (n_samples,), dtype=int64
        Group ids, 0 to ``G - 1``.

    Raises
    ------
    ValueError
        If an argument is invalid; the message names it.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skfairal.datasets import make_biased_classification
    >>> X, y, groups = make_biased_classification(1000, random_state=0)
    >>> X.shape, y.dtype, groups.dtype
    ((1000, 5), dtype('int64'), dtype('int64'))
    >>> np.bincount(groups)
    array([700, 300])
    >>> [float(y[groups == g].mean()) for g in (0, 1)]
    [0.5, 0.2]

    A model trained on it selects group 0 far more often than group 1:

    >>> pred = LogisticRegression().fit(X, y).predict(X)
    >>> rates = [pred[groups == g].mean() for g in (0, 1)]
    >>> bool(rates[0] - rates[1] > 0.1)
    True
    """
    n_samples = _check_int(n_samples, "n_samples", 1)
    n_features = _check_int(n_features, "n_features", 2)
    proportions = _check_proportions(group_proportions)
    n_groups = proportions.size
    rates = _check_per_group(base_rates, "base_rates", n_groups)
    noise = _check_per_group(label_noise, "label_noise", n_groups)
    group_shift = _check_real(group_shift, "group_shift", nonnegative=False)
    class_sep = _check_real(class_sep, "class_sep", nonnegative=True)
    rng = check_random_state(random_state)

    sizes = _largest_remainder(n_samples, proportions)
    groups = np.repeat(np.arange(n_groups, dtype=np.int64), sizes)
    y = np.zeros(n_samples, dtype=np.int64)
    start = 0
    for size, rate in zip(sizes, rates):
        y[start : start + int(np.floor(size * rate + 0.5))] = 1
        start += size
    order = rng.permutation(n_samples)
    groups, y = groups[order], y[order]

    flipped = rng.random_sample(n_samples) < noise[groups]
    feature_class = np.where(flipped, 1 - y, y)
    n_class_features = n_features - 1
    X = rng.standard_normal((n_samples, n_features))
    sign = 2.0 * feature_class - 1.0
    X[:, :n_class_features] += (class_sep / np.sqrt(n_class_features)) * sign[:, None]
    X[:, -1] += group_shift * (2.0 * groups - (n_groups - 1))
    return X, y, groups
