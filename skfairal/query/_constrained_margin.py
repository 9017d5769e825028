"""Uncertainty of a constrained model: each group's rows nearest its own threshold."""

from numbers import Real

import numpy as np
from sklearn.utils._param_validation import Interval

from ..utils import select_top_k
from ._base import BaseQueryStrategy

# Scores are compared as log-odds, clipped so that a saturated probability
# stays finite.
_CLIP = 1e-6


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, _CLIP, 1.0 - _CLIP)
    return np.log(p) - np.log1p(-p)


def group_labels(encoding) -> np.ndarray:
    """The raw group of each row of a :class:`~skfairal.utils.GroupEncoding`.

    A 1-D array for one sensitive column, 2-D for several: what a fairlearn
    mitigator was fitted with.
    """
    groups = encoding.groups
    if groups and isinstance(groups[0], tuple):
        table = np.empty((len(groups), len(groups[0])), dtype=object)
        for i, group in enumerate(groups):
            table[i] = group
    else:
        table = np.empty(len(groups), dtype=object)
        table[:] = groups
    return table[encoding.codes]


def group_thresholds(score, codes, accept) -> np.ndarray:
    """Each row's group threshold on ``score`` that a constrained model implies.

    In group ``g`` the constrained model accepts a share ``r_g`` (the mean
    of its P(prediction = 1) over the group's rows); the threshold is the
    score above which that share of the group lies.
    """
    thresholds = np.empty(len(score))
    for code in np.unique(codes):
        rows = codes == code
        rate = float(np.mean(accept[rows]))
        thresholds[rows] = np.quantile(score[rows], 1.0 - rate)
    return thresholds


class ConstrainedMarginSampling(BaseQueryStrategy):
    """Rows nearest their group's decision threshold under a fairness constraint.

    For a learner whose base is a constrained model (fairlearn's
    ``ExponentiatedGradient`` or ``ThresholdOptimizer`` under demographic
    parity or equalized odds). Such a model, in effect, thresholds its inner
    estimator's score at a different point in each group: where the
    constraint moves a group's threshold away from 0.5, margin sampling on
    the unconstrained score buys labels where the constrained model is
    already sure. This strategy reads, for the pool,

    - the inner (unconstrained) model's log-odds ``s(x)``, and
    - the constrained model's acceptance rate ``r_g`` in each group, whose
      ``(1 - r_g)``-quantile of ``s`` in the group is the group's threshold
      ``t_g``,

    and picks the rows of smallest ``|s(x) - t_g(x)|``: those whose
    constrained prediction a label is most likely to flip or confirm, in
    every group at once (a small group's threshold gets its own nearest
    rows, not only the majority's).

    Parameters
    ----------
    exploration : float in [0, 1), default=0.0
        Share of each batch drawn uniformly at random from the pool (the
        rest by the margin), a guard against a threshold estimated from few
        labels. Not yet measured against other values; 0 is the margin
        alone.

    Notes
    -----
    Pool groups are required (``requires_pool_groups``): the thresholds are
    per group. The learner's base must be constrained; any other is an
    error. Binary targets only, as fairlearn's mitigators are.

    Examples
    --------
    >>> import numpy as np
    >>> from fairlearn.reductions import DemographicParity, ExponentiatedGradient
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skfairal import FairActiveClassifier
    >>> from skfairal.datasets import make_biased_classification
    >>> from skfairal.query import ConstrainedMarginSampling
    >>> X, y, groups = make_biased_classification(300, random_state=0)
    >>> base = ExponentiatedGradient(
    ...     LogisticRegression(), DemographicParity(difference_bound=0.05)
    ... )
    >>> learner = FairActiveClassifier(base, ConstrainedMarginSampling())
    >>> learner = learner.fit(X[:60], y[:60], sensitive_features=groups[:60])
    >>> picks = learner.query(X[60:], 5, sensitive_features=groups[60:])
    >>> picks.shape
    (5,)
    """

    requires_pool_groups = True
    requires_constrained_base = True

    _parameter_constraints = {"exploration": [Interval(Real, 0, 1, closed="left")]}

    def __init__(self, exploration: float = 0.0):
        self.exploration = exploration

    def margins(self, view, X_pool, groups) -> np.ndarray:
        """``|s(x) - t_g(x)|`` of each pool row, in log-odds (smaller first)."""
        # Read first: it raises for a base that is not constrained.
        accept = view.constrained_predict_proba(X_pool, group_labels(groups))
        if view.n_classes != 2:
            raise ValueError(
                f"{type(self).__name__} needs a binary target, as fairlearn's "
                f"mitigators do; the learner has {view.n_classes} classes."
            )
        score = _logit(view.predict_proba(X_pool)[:, 1])
        accept = accept[:, 1]
        return np.abs(score - group_thresholds(score, groups.codes, accept))

    def _query(self, view, X_pool, n_instances, groups, rng):
        margin = self.margins(view, X_pool, groups)
        n_random = int(np.floor(self.exploration * n_instances))
        picks = select_top_k(-margin, n_instances - n_random, random_state=rng)
        if n_random:
            rest = np.setdiff1d(np.arange(len(margin)), picks)
            drawn = rng.choice(rest, size=n_random, replace=False)
            picks = np.concatenate([picks, drawn])
        return picks
