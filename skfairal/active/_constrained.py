"""Constrained base estimators: fairlearn's mitigators as the learner's model.

A *constrained* base estimator is one whose ``fit`` needs the training rows'
sensitive features: fairlearn's ``ExponentiatedGradient``, ``GridSearch`` and
``ThresholdOptimizer``, alone or as the last step of a Pipeline. The learner
fits it with the labeled rows' groups, and beside it fits the mitigator's
inner estimator plain on the same rows (``unconstrained_estimator_``): the
model whose probabilities, features and refits the query strategies read.

fairlearn's mitigators have no public ``predict_proba``: the probabilities
of their randomized classifier come from ``_pmf_predict``, private in
fairlearn 0.15 (pinned in constraints.txt). It is read here and nowhere else.
"""

import inspect

import numpy as np
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.pipeline import Pipeline

_FIT_GROUPS = "sensitive_features"


def _final(estimator):
    return estimator[-1] if isinstance(estimator, Pipeline) else estimator


def _names_groups(method) -> bool:
    try:
        return _FIT_GROUPS in inspect.signature(method).parameters
    except (TypeError, ValueError):
        return False


def is_constrained(estimator) -> bool:
    """Whether ``estimator`` (or a Pipeline's last step) fits with groups.

    fairlearn's reductions take ``sensitive_features`` through ``**kwargs``,
    so a fairlearn estimator with a ``**kwargs`` fit counts as well as any
    estimator whose ``fit`` names the argument.
    """
    final = _final(estimator)
    fit = getattr(final, "fit", None)
    if fit is None:
        return False
    if _names_groups(fit):
        return True
    from_fairlearn = type(final).__module__.split(".")[0] == "fairlearn"
    if not from_fairlearn:
        return False
    parameters = inspect.signature(fit).parameters.values()
    return any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)


def needs_groups_at_predict(estimator) -> bool:
    """Whether the constrained model predicts from the groups (ThresholdOptimizer)."""
    return _names_groups(getattr(_final(estimator), "predict", None))


def _inner(final):
    inner = getattr(final, "estimator", None)
    name = type(final).__name__
    if inner is None:
        raise ValueError(
            f"the constrained base estimator {name} has estimator=None; give it "
            "the model to constrain, e.g. "
            f"{name}(estimator=LogisticRegression(max_iter=1000), ...)."
        )
    if getattr(final, "prefit", False):
        raise ValueError(
            f"{name}(prefit=True) never refits its estimator, so the labels an "
            "active learner buys would not reach the model; use prefit=False."
        )
    return inner


def check_constrained(estimator) -> None:
    """Raise if a constrained base cannot serve an active learner."""
    _inner(_final(estimator))


def fit_constrained(estimator, X, y, groups):
    """Fit a constrained base with the rows' groups; return it and its plain twin.

    Parameters
    ----------
    estimator : unfitted estimator or Pipeline
        A fresh clone: it is fitted in place.
    X, y : the labeled rows and their class codes.
    groups : ndarray
        Their sensitive features.

    Returns
    -------
    estimator : the fitted constrained model
    unconstrained : the inner estimator fitted on the same rows without the
        constraint (behind the same fitted preprocessing for a Pipeline)
    """
    final = _final(estimator)
    inner = clone(_inner(final))
    if isinstance(estimator, Pipeline):
        # Slicing shares the step objects: fitting the slice fits the
        # Pipeline's preprocessing, whatever metadata routing says.
        X_final = estimator[:-1].fit_transform(X, y)
    else:
        X_final = X
    if sp.issparse(X_final):
        # fairlearn's mitigators validate their input as dense; say where the
        # sparse matrix comes from rather than pass on check_array's error.
        raise TypeError(
            f"the constrained base estimator {type(final).__name__} needs dense "
            "rows, and its input is a sparse matrix (a OneHotEncoder or a "
            "ColumnTransformer gives one by default): use "
            "OneHotEncoder(sparse_output=False) or "
            "ColumnTransformer(..., sparse_threshold=0)."
        )
    try:
        final.fit(X_final, y, sensitive_features=groups)
    except ValueError as exc:
        raise ValueError(
            f"the constrained base estimator {type(final).__name__} could not be "
            f"fitted on the {len(y)} labeled rows: {exc}"
        ) from exc
    inner.fit(X_final, y)
    if isinstance(estimator, Pipeline):
        unconstrained = Pipeline(
            [*estimator.steps[:-1], (estimator.steps[-1][0], inner)],
            memory=estimator.memory,
        )
    else:
        unconstrained = inner
    return estimator, unconstrained


def constrained_pmf(estimator, X, groups) -> np.ndarray:
    """P(prediction = class) of a fitted constrained model's randomized classifier."""
    final = _final(estimator)
    if isinstance(estimator, Pipeline):
        X = estimator[:-1].transform(X)
    kwargs = {_FIT_GROUPS: groups} if needs_groups_at_predict(estimator) else {}
    if hasattr(final, "_pmf_predict"):
        pmf = final._pmf_predict(X, **kwargs)
    else:
        pmf = final.predict_proba(X, **kwargs)
    return np.asarray(pmf, dtype=np.float64)


def draw_predictions(pmf: np.ndarray, seed: int) -> np.ndarray:
    """Class codes drawn from each row's pmf, as fairlearn's ``predict`` draws them.

    One uniform per row from ``seed``: the same rows in the same order give
    the same predictions, whatever the chunking.
    """
    u = np.random.RandomState(seed).random_sample(len(pmf))
    cumulative = np.cumsum(pmf, axis=1)
    codes = (cumulative < u[:, None]).sum(axis=1)
    return np.minimum(codes, pmf.shape[1] - 1)
