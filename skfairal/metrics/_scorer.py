"""Scorers for model selection that receive ``sensitive_features``."""

from collections.abc import Callable
from functools import partial

from sklearn.metrics._scorer import _cached_call, _Scorer

from ._disparity import (
    demographic_parity_difference,
    demographic_parity_ratio,
    equalized_odds_difference,
    equalized_odds_ratio,
    error_rate_balance_difference,
)
from ._transport import optimal_transport_distance

# name -> (function, response method, greater is better)
_METRICS: dict[str, tuple[Callable, str, bool]] = {
    "demographic_parity_difference": (demographic_parity_difference, "predict", False),
    "demographic_parity_ratio": (demographic_parity_ratio, "predict", True),
    "equalized_odds_difference": (equalized_odds_difference, "predict", False),
    "equalized_odds_ratio": (equalized_odds_ratio, "predict", True),
    "error_rate_balance_difference": (error_rate_balance_difference, "predict", False),
    "optimal_transport_distance": (optimal_transport_distance, "predict_proba", False),
}

_HOW_TO_ROUTE = (
    "Enable metadata routing with sklearn.set_config(enable_metadata_routing=True) "
    "and pass sensitive_features to the caller's fit (GridSearchCV.fit, or "
    "cross_validate(..., params={'sensitive_features': ...}))."
)


class _FairnessScorer(_Scorer):
    # Requested by default, so GridSearchCV routes the metadata here as soon as
    # routing is enabled, without a set_score_request call.
    __metadata_request__score = {"sensitive_features": True}

    def __call__(self, estimator, X, y_true, *, sensitive_features=None, **kwargs):
        # Called directly (not through a meta-estimator) the groups may be given
        # even with routing off; scikit-learn's scorer would refuse them.
        if sensitive_features is None:
            raise ValueError(
                f"The {self._score_func.__name__} scorer needs sensitive_features "
                f"and received none. {_HOW_TO_ROUTE}"
            )
        return self._score(
            partial(_cached_call, None),
            estimator,
            X,
            y_true,
            sensitive_features=sensitive_features,
            **kwargs,
        )

    def _score(self, method_caller, estimator, X, y_true, **kwargs):
        if "sensitive_features" not in kwargs:
            raise ValueError(
                f"The {self._score_func.__name__} scorer needs sensitive_features "
                f"and received none. {_HOW_TO_ROUTE}"
            )
        return super()._score(method_caller, estimator, X, y_true, **kwargs)


def make_fairness_scorer(
    metric: str | Callable,
    *,
    greater_is_better: bool | None = None,
    response_method: str | None = None,
    **kwargs,
):
    """Make a scorer from a fairness metric, for GridSearchCV and cross_validate.

    The scorer requests ``sensitive_features`` through scikit-learn's metadata
    routing, so with routing enabled a meta-estimator passes the test fold's
    groups to it. It may also be called directly as
    ``scorer(estimator, X, y, sensitive_features=groups)``.

    Parameters
    ----------
    metric : str or callable
        A name from :mod:`skfairal.metrics` (``"demographic_parity_difference"``,
        ``"demographic_parity_ratio"``, ``"equalized_odds_difference"``,
        ``"equalized_odds_ratio"``, ``"error_rate_balance_difference"``,
        ``"optimal_transport_distance"``) or a callable
        ``metric(y_true, y_pred, *, sensitive_features, **kwargs) -> float``.
    greater_is_better : bool, default=None
        ``None`` means True for the ratios and False for differences and
        distances (then the scorer returns the negated metric, as scikit-learn's
        ``neg_*`` scorers do). Required for a callable.
    response_method : str, default=None
        Estimator method whose output is scored; ``None`` means ``"predict"``,
        or ``"predict_proba"`` (positive-class column) for
        ``optimal_transport_distance``.
    **kwargs
        Fixed keyword arguments for the metric, such as ``method="to_overall"``.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y_true, *, sensitive_features, **kwargs)``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skfairal.metrics import make_fairness_scorer
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> y = np.array([0, 0, 1, 1])
    >>> clf = LogisticRegression().fit(X, y)
    >>> scorer = make_fairness_scorer("demographic_parity_difference")
    >>> scorer(clf, X, y, sensitive_features=["a", "a", "b", "b"])
    -1.0
    """
    if isinstance(metric, str):
        if metric not in _METRICS:
            raise ValueError(
                f"metric={metric!r} is not a known fairness metric; "
                f"choose one of {sorted(_METRICS)} or pass a callable."
            )
        func, default_method, default_greater = _METRICS[metric]
    elif callable(metric):
        if greater_is_better is None:
            raise ValueError(
                "greater_is_better is required when metric is a callable: say "
                "whether a higher value of it is fairer."
            )
        func, default_method, default_greater = metric, "predict", greater_is_better
    else:
        raise TypeError(f"metric must be a string or a callable, got {metric!r}.")
    if greater_is_better is None:
        greater_is_better = default_greater
    return _FairnessScorer(
        score_func=func,
        sign=1 if greater_is_better else -1,
        kwargs=kwargs,
        response_method=response_method or default_method,
    )
