"""D-FA2L: query where the groups' own models disagree (Cao and Lan, IJCNN 2022)."""

from numbers import Real

import numpy as np
from sklearn.base import clone
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import _num_samples

from ..utils import select_top_k, take_rows
from ._base import BaseQueryStrategy, learner_view
from ._uncertainty import entropy_utility


def group_disagreement(learner, X_pool) -> np.ndarray:
    """How far apart the per-group models' probabilities are on each pool row.

    A clone of the final step of the learner's base estimator is fitted on
    the labeled rows of each group that holds every class, in the base
    estimator's feature space (for a Pipeline, the rows as its fitted
    preprocessing transforms them, so every group model reads the same
    features); the disagreement on a row is the largest, over classes, of
    the spread (maximum minus minimum) of the group models' probabilities.
    With fewer than two such groups it is 0 everywhere: there is nothing to
    compare.

    Parameters
    ----------
    learner : FairActiveClassifier
        Fitted with the sensitive features of its labeled rows.
    X_pool : array-like of shape (n_pool, n_features)
        The rows to score, in the format the learner takes.

    Returns
    -------
    disagreement : ndarray of shape (n_pool,)
        In [0, 1].

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skfairal import FairActiveClassifier
    >>> from skfairal.datasets import make_biased_classification
    >>> from skfairal.query import group_disagreement
    >>> X, y, g = make_biased_classification(300, random_state=0)
    >>> learner = FairActiveClassifier(LogisticRegression())
    >>> learner = learner.fit(X[:100], y[:100], sensitive_features=g[:100])
    >>> d = group_disagreement(learner, X[100:])
    >>> d.shape, bool(0 <= d.min() and d.max() <= 1)
    ((200,), True)
    """
    return _disagreement(learner_view(learner, "group_disagreement"), X_pool)


def _disagreement(view, X_pool) -> np.ndarray:
    encoding = view.require_labeled_groups()
    y = view.y_encoded
    low = high = pool_features = None
    n_models = 0
    for code in range(encoding.n_groups):
        rows = np.flatnonzero(encoding.codes == code)
        # A group without every class cannot have a model of all classes.
        if len(np.unique(y[rows])) < view.n_classes:
            continue
        model = clone(view.final_estimator).fit(
            take_rows(view.labeled_features, rows), y[rows]
        )
        if pool_features is None:
            # Transformed only once a group model exists to read them.
            pool_features = view.features(X_pool)
        proba = np.asarray(model.predict_proba(pool_features), dtype=np.float64)
        low = proba if low is None else np.minimum(low, proba)
        high = proba if high is None else np.maximum(high, proba)
        n_models += 1
    if n_models < 2:
        return np.zeros(_num_samples(X_pool))
    return (high - low).max(axis=1)


class DFA2LSampling(BaseQueryStrategy):
    """D-FA2L: label the rows on which the groups' own models disagree.

    After Cao and Lan (IJCNN 2022, "D-FA2L"): a model is trained on each
    sensitive group's labeled rows, and a pool row on which those models'
    class probabilities differ by more than ``alpha`` is one where the
    group changes the decision, where a label does most for fairness. The
    batch is drawn uniformly from those rows, as disagreement-based active
    learning samples its region of disagreement (Cohn, Atlas and Ladner,
    1994); when fewer than ``n_instances`` rows pass the threshold, the rest
    of the batch is filled by entropy sampling. ``alpha = 1`` is entropy
    sampling.

    The paper's text was not available to us; this follows its published
    summary (per-group models, a disagreement threshold alpha). Drawing the
    candidates uniformly rather than by the learner's entropy is our choice:
    measured on biased synthetic data (``make_biased_classification``),
    entropy inside the candidates behaved like plain entropy sampling, while
    uniform draws lowered both demographic parity and equalized odds
    differences. A group's model needs every class among the group's
    labeled rows; groups without are left out, and with fewer than two
    group models there is no disagreement (entropy sampling). The group
    models are clones of the base estimator's last step, fitted in its
    feature space (for a Pipeline, on the labeled rows as its fitted
    preprocessing transforms them), so they all read the same features. No
    sensitive features are needed for the pool.

    Parameters
    ----------
    alpha : float in [0, 1], default=0.2
        Disagreement (difference of the group models' class probabilities)
        above which a row is a candidate.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skfairal import FairActiveClassifier
    >>> from skfairal.datasets import make_biased_classification
    >>> from skfairal.query import DFA2LSampling
    >>> X, y, g = make_biased_classification(600, random_state=0)
    >>> learner = FairActiveClassifier(
    ...     LogisticRegression(),
    ...     DFA2LSampling(alpha=0.2),
    ...     budget=20,
    ...     batch_size=5,
    ...     initial_size=40,
    ...     random_state=0,
    ... ).fit(X, y, sensitive_features=g)
    >>> len(learner.y_labeled_)
    60
    """

    _parameter_constraints = {"alpha": [Interval(Real, 0, 1, closed="both")]}

    def __init__(self, alpha: float = 0.2):
        self.alpha = alpha

    def _query(self, view, X_pool, n_instances, groups, rng):
        candidate = _disagreement(view, X_pool) > self.alpha
        entropy = entropy_utility(view.predict_proba(X_pool))
        # Candidates tie at 2 (the seeded top-k draws among them uniformly);
        # the others rank below by entropy scaled into [0, 1].
        scaled = entropy / np.log(view.n_classes)
        utility = np.where(candidate, 2.0, scaled)
        return select_top_k(utility, n_instances, random_state=rng)
