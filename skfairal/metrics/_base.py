"""Shared input validation and group-wise rates for the fairness metrics."""

import warnings
from numbers import Real
from typing import Literal, NamedTuple

import numpy as np
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.utils import check_consistent_length, column_or_1d

from ..utils import GroupEncoding, check_sensitive_features, is_missing

Method = Literal["between_groups", "to_overall"]
_METHODS = ("between_groups", "to_overall")


class BinaryInputs(NamedTuple):
    """Validated inputs: positive-class indicators, groups and weights."""

    y_true: np.ndarray | None  # bool, True for the positive class
    y_pred: np.ndarray  # bool, True for the positive class
    groups: GroupEncoding
    weights: np.ndarray  # float64, one per sample


def check_method(method) -> str:
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}.")
    return method


def _as_labels(y, name: str) -> np.ndarray:
    if hasattr(y, "ndim") and y.ndim == 2 and y.shape[1] > 1:
        raise ValueError(
            f"{name} must be 1-D (one label per sample), got shape {y.shape}; "
            "for predict_proba output pass the positive-class column."
        )
    try:
        y = column_or_1d(y, warn=False)
    except ValueError as exc:
        raise ValueError(f"{name} must be 1-D (one label per sample): {exc}") from exc
    if y.dtype.kind == "f" and np.isnan(y).any():
        raise ValueError(f"{name} contains NaN.")
    # is_missing, not ``v != v``: bool(pd.NA != pd.NA) raises TypeError.
    if y.dtype.kind == "O" and any(is_missing(v) for v in y):
        raise ValueError(f"{name} contains missing values.")
    return y


def _positive_label(labels: np.ndarray, pos_label, names: str):
    present = np.unique(labels)
    if len(present) > 2:
        raise ValueError(
            f"{names} hold {len(present)} distinct labels ({present[:5].tolist()}); "
            "these fairness metrics are defined for binary classification."
        )
    if pos_label is None:
        if set(present.tolist()) <= {0, 1} or set(present.tolist()) <= {-1, 1}:
            return 1
        raise ValueError(
            f"{names} hold the labels {present.tolist()}; pass pos_label to say "
            "which one is the positive (favourable) outcome."
        )
    if len(present) == 2 and pos_label not in present.tolist():
        raise ValueError(
            f"pos_label={pos_label!r} is not one of the labels {present.tolist()} "
            f"in {names}."
        )
    return pos_label


def check_binary_inputs(
    y_true,
    y_pred,
    sensitive_features,
    sample_weight,
    pos_label,
    *,
    require_y_true: bool,
    y_pred_name: str = "y_pred",
) -> BinaryInputs:
    """Validate the common inputs of the binary fairness metrics.

    ``y_true`` may be None only when ``require_y_true`` is False (selection
    rates do not depend on it); when given, its length is checked all the same.
    """
    if y_true is None and require_y_true:
        raise ValueError("y_true is required by this metric.")
    y_pred = _as_labels(y_pred, y_pred_name)
    arrays = [y_pred]
    if y_true is not None:
        # A metric that ignores y_true still checks its length, nothing more, so
        # unlabeled pools (y_true unknown) can be scored.
        y_true = _as_labels(y_true, "y_true") if require_y_true else np.asarray(y_true)
        arrays.insert(0, y_true)
    if sample_weight is not None:
        sample_weight = column_or_1d(sample_weight, warn=False).astype(np.float64)
        arrays.append(sample_weight)
    try:
        check_consistent_length(*arrays)
    except ValueError as exc:
        raise ValueError(f"y_true, {y_pred_name} and sample_weight: {exc}") from exc
    n_samples = len(y_pred)
    if n_samples == 0:
        raise ValueError(f"{y_pred_name} is empty.")
    groups = check_sensitive_features(sensitive_features, n_samples, min_groups=2)
    if sample_weight is None:
        weights = np.ones(n_samples)
    else:
        if not np.all(np.isfinite(sample_weight)) or np.any(sample_weight < 0):
            raise ValueError("sample_weight must be finite and non-negative.")
        weights = sample_weight
    if require_y_true:
        pos = _positive_label(
            np.concatenate([y_true, y_pred]), pos_label, "y_true and y_pred"
        )
        return BinaryInputs(y_true == pos, y_pred == pos, groups, weights)
    pos = _positive_label(y_pred, pos_label, y_pred_name)
    return BinaryInputs(None, y_pred == pos, groups, weights)


def group_rates(
    event: np.ndarray,
    condition: np.ndarray | None,
    inputs: BinaryInputs,
    *,
    rate_name: str,
    zero_division,
) -> tuple[np.ndarray, float]:
    """Weighted P(event | condition, group) for every group, and overall.

    Returns
    -------
    by_group : ndarray of shape (n_groups,)
    overall : float
    """
    codes, w = inputs.groups.codes, inputs.weights
    n_groups = inputs.groups.n_groups
    cond_w = w if condition is None else w * condition
    den = np.bincount(codes, weights=cond_w, minlength=n_groups)
    num = np.bincount(codes, weights=cond_w * event, minlength=n_groups)
    total_den = cond_w.sum()
    if total_den == 0:
        raise ValueError(
            f"the {rate_name} is undefined for every group: no sample satisfies its "
            "condition (for a true or false positive rate, y_true needs both classes)."
        )
    overall = float((cond_w * event).sum() / total_den)
    empty = den == 0
    with np.errstate(invalid="ignore", divide="ignore"):
        by_group = num / den
    if empty.any():
        by_group[empty] = _fill_undefined(
            zero_division,
            rate_name,
            [inputs.groups.groups[i] for i in np.flatnonzero(empty)],
        )
    return by_group, overall


def check_zero_division(zero_division):
    """Validate ``zero_division`` up front, whether or not a rate is undefined."""
    if isinstance(zero_division, str) and zero_division == "warn":
        return zero_division
    if isinstance(zero_division, Real) and (
        np.isnan(zero_division) or zero_division in (0, 1)
    ):
        return zero_division
    raise ValueError(
        f"zero_division must be 'warn', 0.0, 1.0 or np.nan, got {zero_division!r}."
    )


def _fill_undefined(zero_division, rate_name: str, groups: list) -> float:
    check_zero_division(zero_division)
    if isinstance(zero_division, str):
        warnings.warn(
            f"The {rate_name} is undefined for group(s) {groups} (no sample in its "
            "denominator); it is set to 0.0, as fairlearn does. Pass "
            "zero_division=np.nan to leave these groups out of the comparison.",
            UndefinedMetricWarning,
            # _fill_undefined < group_rates < _odds_rates < equalized_odds_* < caller
            stacklevel=5,
        )
        return 0.0
    return float(zero_division)


def group_rate_gap(rates, axis: int = 0):
    """The largest minus the smallest group rate: every disparity's spread.

    The one place skfairal measures how far apart groups are; the metrics,
    FAL's expected unfairness and Falcon's targets all use it.

    Parameters
    ----------
    rates : array-like
        One rate per group along ``axis`` (a vector, or a groups x columns
        matrix for many candidate models at once). NaN (an undefined rate)
        is left out.
    axis : int, default=0
        The groups' axis.

    Returns
    -------
    gap : float or ndarray
        A float for a vector, else one gap per column; NaN where fewer than
        two groups have a rate.

    Examples
    --------
    >>> import numpy as np
    >>> from skfairal.metrics import group_rate_gap
    >>> group_rate_gap([0.2, 0.5, 0.35])
    0.3
    >>> group_rate_gap(np.array([[0.1, 0.4], [0.3, np.nan], [0.2, 0.6]]))
    array([0.2, 0.2])
    """
    rates = np.asarray(rates, dtype=np.float64)
    defined = ~np.isnan(rates)
    n_defined = defined.sum(axis=axis)
    with np.errstate(invalid="ignore"):
        high = np.where(defined, rates, -np.inf).max(axis=axis)
        low = np.where(defined, rates, np.inf).min(axis=axis)
        gap = np.where(n_defined >= 2, high - low, np.nan)
    if gap.ndim == 0:
        return float(gap)
    return gap


def aggregate_difference(by_group: np.ndarray, overall: float, method: str) -> float:
    """Largest gap between groups, or between any group and the overall value."""
    if method == "between_groups":
        return group_rate_gap(by_group)
    values = by_group[~np.isnan(by_group)]
    return float(np.abs(values - overall).max()) if len(values) else np.nan


def aggregate_ratio(by_group: np.ndarray, overall: float, method: str) -> float:
    """Smallest ratio (at most 1) between groups, or of any group to overall.

    Two rates that are both zero are equal, so their ratio counts as 1.
    """
    values = by_group[~np.isnan(by_group)]
    if len(values) < 2 and method == "between_groups":
        return np.nan
    if method == "between_groups":
        low, high = values.min(), values.max()
        return 1.0 if high == 0 else float(low / high)
    if len(values) == 0:
        return np.nan
    low = np.minimum(values, overall)
    high = np.maximum(values, overall)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratios = np.where(high == 0, 1.0, low / np.where(high == 0, 1.0, high))
    return float(ratios.min())
