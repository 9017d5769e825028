"""Group disparity metrics: demographic parity, equalized odds, error-rate balance."""

from typing import Literal

import numpy as np

from ._base import (
    Method,
    aggregate_difference,
    aggregate_ratio,
    check_binary_inputs,
    check_method,
    check_zero_division,
    group_rates,
)

_AGGS = ("worst_case", "mean")


def _selection_rates(y_true, y_pred, sensitive_features, sample_weight, pos_label):
    inputs = check_binary_inputs(
        y_true,
        y_pred,
        sensitive_features,
        sample_weight,
        pos_label,
        require_y_true=False,
    )
    return group_rates(
        inputs.y_pred, None, inputs, rate_name="selection rate", zero_division=np.nan
    )


def demographic_parity_difference(
    y_true,
    y_pred,
    *,
    sensitive_features,
    method: Method = "between_groups",
    sample_weight=None,
    pos_label=None,
) -> float:
    r"""Largest gap in selection rate between groups.

    The selection rate of group :math:`a` is :math:`s_a = P(h(X) = 1 \mid A = a)`.

    - ``method="between_groups"`` (fairlearn's default):
      :math:`\max_a s_a - \min_a s_a`.
    - ``method="to_overall"``: :math:`\max_a |s_a - P(h(X) = 1)|`, the
      demographic parity of Sharaf et al. (2022, Table 1), as used by PANDA.

    Anahideh et al. (2022, FAL) use the between-groups gap of two groups, which is
    the default. The value equals
    ``fairlearn.metrics.demographic_parity_difference`` with the same ``method``.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or None
        Ignored except for its length; ``None`` is accepted, so an unlabeled
        pool can be scored.
    y_pred : array-like of shape (n_samples,)
        Predicted binary labels.
    sensitive_features : array-like of shape (n_samples,) or (n_samples, n_columns)
        Group labels; several columns form intersectional groups.
    method : {"between_groups", "to_overall"}, default="between_groups"
        What each group's rate is compared with.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative sample weights.
    pos_label : int, float, bool or str, default=None
        The positive (selected) label; ``None`` means 1 for labels in
        {0, 1} or {-1, 1} and an error otherwise.

    Returns
    -------
    difference : float
        In [0, 1]; 0 means equal selection rates.

    Examples
    --------
    >>> from skfairal.metrics import demographic_parity_difference
    >>> y_pred = [1, 1, 0, 0, 1, 0, 0, 0]
    >>> groups = ["a", "a", "a", "a", "b", "b", "b", "b"]
    >>> demographic_parity_difference(None, y_pred, sensitive_features=groups)
    0.25
    >>> demographic_parity_difference(
    ...     None, y_pred, sensitive_features=groups, method="to_overall"
    ... )
    0.125
    """
    check_method(method)
    by_group, overall = _selection_rates(
        y_true, y_pred, sensitive_features, sample_weight, pos_label
    )
    return aggregate_difference(by_group, overall, method)


def demographic_parity_ratio(
    y_true,
    y_pred,
    *,
    sensitive_features,
    method: Method = "between_groups",
    sample_weight=None,
    pos_label=None,
) -> float:
    r"""Smallest ratio of selection rates between groups.

    - ``method="between_groups"``: :math:`\min_a s_a / \max_a s_a`.
    - ``method="to_overall"``: :math:`\min_a \min(s_a / s, s / s_a)` with
      :math:`s` the overall selection rate.

    Equals ``fairlearn.metrics.demographic_parity_ratio``, except that two zero
    rates count as equal (ratio 1) where fairlearn returns NaN. The "80% rule" of
    disparate impact asks for a ratio of at least 0.8.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or None
        Ignored except for its length.
    y_pred : array-like of shape (n_samples,)
        Predicted binary labels.
    sensitive_features : array-like of shape (n_samples,) or (n_samples, n_columns)
        Group labels; several columns form intersectional groups.
    method : {"between_groups", "to_overall"}, default="between_groups"
        What each group's rate is compared with.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative sample weights.
    pos_label : int, float, bool or str, default=None
        The positive (selected) label.

    Returns
    -------
    ratio : float
        In [0, 1]; 1 means equal selection rates.

    Examples
    --------
    >>> from skfairal.metrics import demographic_parity_ratio
    >>> demographic_parity_ratio(
    ...     None, [1, 1, 0, 0, 1, 0, 0, 0], sensitive_features=[0, 0, 0, 0, 1, 1, 1, 1]
    ... )
    0.5
    """
    check_method(method)
    by_group, overall = _selection_rates(
        y_true, y_pred, sensitive_features, sample_weight, pos_label
    )
    return aggregate_ratio(by_group, overall, method)


def _odds_rates(y_true, y_pred, sensitive_features, sample_weight, pos_label, zd):
    check_zero_division(zd)
    inputs = check_binary_inputs(
        y_true,
        y_pred,
        sensitive_features,
        sample_weight,
        pos_label,
        require_y_true=True,
    )
    tpr = group_rates(
        inputs.y_pred,
        inputs.y_true,
        inputs,
        rate_name="true positive rate",
        zero_division=zd,
    )
    fpr = group_rates(
        inputs.y_pred,
        ~inputs.y_true,
        inputs,
        rate_name="false positive rate",
        zero_division=zd,
    )
    return tpr, fpr


def _check_agg(agg):
    if agg not in _AGGS:
        raise ValueError(f"agg must be one of {_AGGS}, got {agg!r}.")


def equalized_odds_difference(
    y_true,
    y_pred,
    *,
    sensitive_features,
    method: Method = "between_groups",
    sample_weight=None,
    agg: Literal["worst_case", "mean"] = "worst_case",
    pos_label=None,
    zero_division="warn",
) -> float:
    r"""Largest gap in true or false positive rate between groups.

    With :math:`\mathrm{TPR}_a = P(h(X)=1 \mid A=a, Y=1)` and
    :math:`\mathrm{FPR}_a = P(h(X)=1 \mid A=a, Y=0)`, each rate's gap is taken as
    in :func:`demographic_parity_difference` (``method``) and the two gaps are
    combined by their maximum (``agg="worst_case"``) or mean (``agg="mean"``).

    - Default arguments reproduce ``fairlearn.metrics.equalized_odds_difference``.
    - ``method="to_overall"`` gives the equalized odds of Sharaf et al. (2022,
      Table 1, PANDA): :math:`\max_{a, y} |P(h=1 \mid A=a, Y=y) - P(h=1 \mid Y=y)|`.
    - Anahideh et al. (2022, FAL) and Tae et al. (2024, Falcon) use the
      between-groups form.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True binary labels; both classes must be present.
    y_pred : array-like of shape (n_samples,)
        Predicted binary labels.
    sensitive_features : array-like of shape (n_samples,) or (n_samples, n_columns)
        Group labels; several columns form intersectional groups.
    method : {"between_groups", "to_overall"}, default="between_groups"
        What each group's rates are compared with.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative sample weights.
    agg : {"worst_case", "mean"}, default="worst_case"
        How the TPR and FPR gaps are combined.
    pos_label : int, float, bool or str, default=None
        The positive label.
    zero_division : {"warn", 0.0, 1.0, np.nan}, default="warn"
        A group without positives (negatives) has no TPR (FPR). ``"warn"``
        uses 0.0, as fairlearn does, and warns; ``np.nan`` leaves the group
        out of that rate's comparison.

    Returns
    -------
    difference : float
        In [0, 1]; 0 means equal error profiles.

    Examples
    --------
    >>> from skfairal.metrics import equalized_odds_difference
    >>> y_true = [1, 1, 0, 0, 1, 1, 0, 0]
    >>> y_pred = [1, 1, 1, 0, 1, 0, 0, 0]
    >>> groups = ["a"] * 4 + ["b"] * 4
    >>> equalized_odds_difference(y_true, y_pred, sensitive_features=groups)
    0.5
    """
    check_method(method)
    _check_agg(agg)
    (tpr, tpr_all), (fpr, fpr_all) = _odds_rates(
        y_true, y_pred, sensitive_features, sample_weight, pos_label, zero_division
    )
    gaps = [
        aggregate_difference(tpr, tpr_all, method),
        aggregate_difference(fpr, fpr_all, method),
    ]
    # np.max, not max(): an undefined (NaN) gap must give NaN whichever rate it is.
    return float(np.max(gaps) if agg == "worst_case" else np.mean(gaps))


def equalized_odds_ratio(
    y_true,
    y_pred,
    *,
    sensitive_features,
    method: Method = "between_groups",
    sample_weight=None,
    agg: Literal["worst_case", "mean"] = "worst_case",
    pos_label=None,
    zero_division="warn",
) -> float:
    r"""Smallest ratio of true or false positive rates between groups.

    Each rate's ratio is taken as in :func:`demographic_parity_ratio`; the two
    are combined by their minimum (``agg="worst_case"``) or mean. Equals
    ``fairlearn.metrics.equalized_odds_ratio`` except that two zero rates count
    as equal (ratio 1) where fairlearn returns NaN.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True binary labels; both classes must be present.
    y_pred : array-like of shape (n_samples,)
        Predicted binary labels.
    sensitive_features : array-like of shape (n_samples,) or (n_samples, n_columns)
        Group labels; several columns form intersectional groups.
    method : {"between_groups", "to_overall"}, default="between_groups"
        What each group's rates are compared with.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative sample weights.
    agg : {"worst_case", "mean"}, default="worst_case"
        How the TPR and FPR ratios are combined.
    pos_label : int, float, bool or str, default=None
        The positive label.
    zero_division : {"warn", 0.0, 1.0, np.nan}, default="warn"
        Value of an undefined group rate; see :func:`equalized_odds_difference`.

    Returns
    -------
    ratio : float
        In [0, 1]; 1 means equal error profiles.

    Examples
    --------
    >>> from skfairal.metrics import equalized_odds_ratio
    >>> y_true = [1, 1, 0, 0, 1, 1, 0, 0]
    >>> y_pred = [1, 1, 1, 0, 1, 0, 0, 0]
    >>> equalized_odds_ratio(y_true, y_pred, sensitive_features=[0] * 4 + [1] * 4)
    0.0
    """
    check_method(method)
    _check_agg(agg)
    (tpr, tpr_all), (fpr, fpr_all) = _odds_rates(
        y_true, y_pred, sensitive_features, sample_weight, pos_label, zero_division
    )
    ratios = [
        aggregate_ratio(tpr, tpr_all, method),
        aggregate_ratio(fpr, fpr_all, method),
    ]
    # np.min, not min(): an undefined (NaN) ratio must give NaN whichever rate it is.
    return float(np.min(ratios) if agg == "worst_case" else np.mean(ratios))


def error_rate_balance_difference(
    y_true,
    y_pred,
    *,
    sensitive_features,
    method: Method = "between_groups",
    sample_weight=None,
    pos_label=None,
) -> float:
    r"""Largest gap in error rate between groups.

    The error rate of group :math:`a` is :math:`e_a = P(h(X) \ne Y \mid A = a)`.

    - ``method="between_groups"``: :math:`\max_a e_a - \min_a e_a`, the
      error-rate balance of Sharaf et al. (2022, Table 1, PANDA); equal to
      fairlearn's ``MetricFrame(metrics=<error rate>, ...).difference()``.
    - ``method="to_overall"``: :math:`\max_a |e_a - P(h(X) \ne Y)|`, the
      quantity bounded by fairlearn's ``ErrorRateParity`` constraint.

    Chouldechova's (2017) "error rate balance" asks for equal false positive
    and false negative rates instead; that is :func:`equalized_odds_difference`.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True binary labels.
    y_pred : array-like of shape (n_samples,)
        Predicted binary labels.
    sensitive_features : array-like of shape (n_samples,) or (n_samples, n_columns)
        Group labels; several columns form intersectional groups.
    method : {"between_groups", "to_overall"}, default="between_groups"
        What each group's error rate is compared with.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative sample weights.
    pos_label : int, float, bool or str, default=None
        The positive label (used only to validate the labels).

    Returns
    -------
    difference : float
        In [0, 1]; 0 means every group sees the same error rate.

    Examples
    --------
    >>> from skfairal.metrics import error_rate_balance_difference
    >>> y_true = [1, 1, 0, 0, 1, 1, 0, 0]
    >>> y_pred = [1, 1, 0, 0, 0, 0, 0, 0]
    >>> error_rate_balance_difference(
    ...     y_true, y_pred, sensitive_features=[0] * 4 + [1] * 4
    ... )
    0.5
    """
    check_method(method)
    inputs = check_binary_inputs(
        y_true,
        y_pred,
        sensitive_features,
        sample_weight,
        pos_label,
        require_y_true=True,
    )
    errors = inputs.y_true != inputs.y_pred
    by_group, overall = group_rates(
        errors, None, inputs, rate_name="error rate", zero_division=np.nan
    )
    return aggregate_difference(by_group, overall, method)
