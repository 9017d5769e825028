"""Uncertainty baselines: least confident, smallest margin, largest entropy.

Each strategy is a utility (a function of the predicted class probabilities)
followed by the shared seeded top-k of :func:`skfairal.utils.select_top_k`.
"""

import numpy as np
from scipy.special import entr
from sklearn.utils._param_validation import StrOptions

from ..utils import select_top_k
from ._base import BaseQueryStrategy


def uncertainty_utility(proba) -> np.ndarray:
    """Least-confidence utility, ``1 - max_k p_k`` (Settles 2009).

    Parameters
    ----------
    proba : array-like of shape (n_samples, n_classes)
        Predicted class probabilities.

    Returns
    -------
    utility : ndarray of shape (n_samples,)
        Larger means more uncertain.

    Examples
    --------
    >>> from skfairal.query import uncertainty_utility
    >>> uncertainty_utility([[0.9, 0.1], [0.5, 0.5]])
    array([0.1, 0.5])
    """
    proba = np.asarray(proba, dtype=np.float64)
    return 1.0 - proba.max(axis=1)


def margin_utility(proba) -> np.ndarray:
    """Smallest-margin utility, ``-(p_(1) - p_(2))`` (Scheffer et al. 2001).

    The gap between the two most probable classes, negated so that a small
    gap (an ambiguous row) scores high.

    Parameters
    ----------
    proba : array-like of shape (n_samples, n_classes)
        Predicted class probabilities, at least two classes.

    Returns
    -------
    utility : ndarray of shape (n_samples,)
        In [-1, 0]; larger means more ambiguous.

    Examples
    --------
    >>> from skfairal.query import margin_utility
    >>> margin_utility([[0.7, 0.2, 0.1], [0.4, 0.35, 0.25]])
    array([-0.5 , -0.05])
    """
    proba = np.asarray(proba, dtype=np.float64)
    if proba.shape[1] < 2:
        raise ValueError("margin needs probabilities for at least two classes.")
    top2 = -np.partition(-proba, 1, axis=1)[:, :2]
    return top2[:, 1] - top2[:, 0]


def entropy_utility(proba) -> np.ndarray:
    """Entropy utility, ``-sum_k p_k log p_k`` in nats (Shannon; Settles 2009).

    Parameters
    ----------
    proba : array-like of shape (n_samples, n_classes)
        Predicted class probabilities.

    Returns
    -------
    utility : ndarray of shape (n_samples,)
        Larger means more uncertain; ``0 log 0`` counts as 0.

    Examples
    --------
    >>> from skfairal.query import entropy_utility
    >>> entropy_utility([[1.0, 0.0], [0.5, 0.5]]).round(4)
    array([0.    , 0.6931])
    """
    proba = np.asarray(proba, dtype=np.float64)
    return entr(proba).sum(axis=1)


_UTILITIES = {
    "least_confident": uncertainty_utility,
    "margin": margin_utility,
    "entropy": entropy_utility,
}


class UncertaintySampling(BaseQueryStrategy):
    """Query the rows the model is least sure of.

    Parameters
    ----------
    measure : {"entropy", "margin", "least_confident"}, default="entropy"
        The utility of a row's predicted probabilities:
        :func:`entropy_utility`, :func:`margin_utility` or
        :func:`uncertainty_utility`.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skfairal.query import UncertaintySampling
    >>> X = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    >>> clf = LogisticRegression().fit(X, [0, 0, 1, 1])
    >>> UncertaintySampling("margin")(clf, np.array([[-3.0], [0.1], [3.0]]))
    array([1])
    """

    _parameter_constraints = {"measure": [StrOptions(set(_UTILITIES))]}

    def __init__(self, measure: str = "entropy"):
        self.measure = measure

    def _query(self, view, X_pool, n_instances, groups, rng):
        scores = _UTILITIES[self.measure](view.predict_proba(X_pool))
        return select_top_k(scores, n_instances, random_state=rng)


def _utility_sampling(measure, learner, X_pool, n_instances, groups, random_state):
    return UncertaintySampling(measure)(
        learner,
        X_pool,
        n_instances,
        sensitive_features=groups,
        random_state=random_state,
    )


def uncertainty_sampling(
    learner, X_pool, n_instances: int = 1, *, sensitive_features=None, random_state=None
) -> np.ndarray:
    """Query the rows whose most probable class is least probable.

    Parameters
    ----------
    learner : fitted classifier
        A :class:`~skfairal.FairActiveClassifier` or anything fitted with
        ``predict_proba``.
    X_pool : array-like of shape (n_pool, n_features)
        Unlabeled rows to choose from.
    n_instances : int, default=1
        How many rows to return.
    sensitive_features : array-like, default=None
        Checked for length when given, otherwise unused.
    random_state : int, RandomState instance or None, default=None
        Breaks ties reproducibly.

    Returns
    -------
    indices : ndarray of shape (n_instances,)
        Row indices into ``X_pool``, most uncertain first.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skfairal.query import uncertainty_sampling
    >>> X = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    >>> clf = LogisticRegression().fit(X, [0, 0, 1, 1])
    >>> uncertainty_sampling(clf, np.array([[-3.0], [0.1], [3.0]]))
    array([1])
    """
    return _utility_sampling(
        "least_confident",
        learner,
        X_pool,
        n_instances,
        sensitive_features,
        random_state,
    )


def margin_sampling(
    learner, X_pool, n_instances: int = 1, *, sensitive_features=None, random_state=None
) -> np.ndarray:
    """Query the rows with the smallest gap between the two likeliest classes.

    Parameters
    ----------
    learner : fitted classifier
        A :class:`~skfairal.FairActiveClassifier` or anything fitted with
        ``predict_proba``.
    X_pool : array-like of shape (n_pool, n_features)
        Unlabeled rows to choose from.
    n_instances : int, default=1
        How many rows to return.
    sensitive_features : array-like, default=None
        Checked for length when given, otherwise unused.
    random_state : int, RandomState instance or None, default=None
        Breaks ties reproducibly.

    Returns
    -------
    indices : ndarray of shape (n_instances,)
        Row indices into ``X_pool``, smallest margin first.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skfairal.query import margin_sampling
    >>> X = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    >>> clf = LogisticRegression().fit(X, [0, 0, 1, 1])
    >>> margin_sampling(clf, np.array([[-3.0], [0.1], [2.5]]), n_instances=2)
    array([1, 2])
    """
    return _utility_sampling(
        "margin", learner, X_pool, n_instances, sensitive_features, random_state
    )


def entropy_sampling(
    learner, X_pool, n_instances: int = 1, *, sensitive_features=None, random_state=None
) -> np.ndarray:
    """Query the rows whose predicted class distribution has the largest entropy.

    Parameters
    ----------
    learner : fitted classifier
        A :class:`~skfairal.FairActiveClassifier` or anything fitted with
        ``predict_proba``.
    X_pool : array-like of shape (n_pool, n_features)
        Unlabeled rows to choose from.
    n_instances : int, default=1
        How many rows to return.
    sensitive_features : array-like, default=None
        Checked for length when given, otherwise unused.
    random_state : int, RandomState instance or None, default=None
        Breaks ties reproducibly.

    Returns
    -------
    indices : ndarray of shape (n_instances,)
        Row indices into ``X_pool``, highest entropy first.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skfairal.query import entropy_sampling
    >>> X = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    >>> clf = LogisticRegression().fit(X, [0, 0, 1, 1])
    >>> entropy_sampling(clf, np.array([[-3.0], [0.1], [3.0]]))
    array([1])
    """
    return _utility_sampling(
        "entropy", learner, X_pool, n_instances, sensitive_features, random_state
    )
