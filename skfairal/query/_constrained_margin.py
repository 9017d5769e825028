"""Uncertainty of a constrained model: each group's rows nearest its own threshold."""

from numbers import Integral

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


def stratum_quotas(pool_cells, labeled_cells, n_cells, n_instances) -> np.ndarray:
    """How many of ``n_instances`` picks each cell gets, so that the labeled
    rows' share of every cell moves toward the pool's.

    Each pick goes, in turn, to the cell furthest below its pool share of the
    labeled rows after the batch (a cell's quota never exceeds its pool
    rows).
    """
    in_pool = np.bincount(pool_cells, minlength=n_cells).astype(float)
    have = np.bincount(labeled_cells, minlength=n_cells).astype(float)
    target = in_pool / in_pool.sum() * (len(labeled_cells) + n_instances)
    quota = np.zeros(n_cells, dtype=int)
    for _ in range(n_instances):
        deficit = np.where(quota < in_pool, target - have - quota, -np.inf)
        quota[np.argmax(deficit)] += 1
    return quota


class ConstrainedMarginSampling(BaseQueryStrategy):
    """Rows nearest their group's decision threshold, in proportion to the pool.

    For a learner whose base is a constrained model (fairlearn's
    ``ExponentiatedGradient`` or ``ThresholdOptimizer`` under demographic
    parity or equalized odds). Such a model meets its constraint **on the
    labeled rows**: on new data it holds only as far as the labeled rows
    represent each group. A strategy that buys rows near the decision
    boundary, as margin or entropy sampling do, gives the mitigator a sample
    whose acceptance rate in each group is far from the population's, and
    the constraint met in training is missed at test. This strategy keeps the
    labeled rows representative and still buys informative ones:

    1. It reads, for the pool, the inner (unconstrained) model's log-odds
       ``s(x)`` and the constrained model's acceptance rate ``r_g`` in each
       group ``g``, whose ``(1 - r_g)``-quantile of ``s`` in the group is the
       group's threshold ``t_g``.
    2. It cuts each group's pool rows into ``n_strata`` quantile bins of
       ``s``: a cell is a (group, bin) pair. The batch is shared among the
       cells so that the labeled rows' share of each cell (the labeled rows
       scored by the same model) moves toward the pool's share
       (``stratum_quotas``); a biased seed set is corrected first.
    3. Within a cell it picks the rows of smallest ``|s(x) - t_g(x)|``: those
       whose constrained prediction a label is most likely to flip or
       confirm.

    Parameters
    ----------
    n_strata : int, default=5
        Score bins per group. 1 shares the batch among groups only, by their
        pool share, and takes each group's rows nearest its threshold.

    Notes
    -----
    Pool groups are required (``requires_pool_groups``), and the labeled
    rows' groups (the learner has them: a constrained base is fitted with
    them). The learner's base must be constrained; any other is an error.
    Binary targets only, as fairlearn's mitigators are. The stratified
    allocation is this package's design, measured in
    ``benchmarks/frontier.py`` (the constraint-mode rows).

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

    _parameter_constraints = {"n_strata": [Interval(Integral, 1, None, closed="left")]}

    def __init__(self, n_strata: int = 5):
        self.n_strata = n_strata

    def scores(self, view, X_pool, groups) -> tuple[np.ndarray, np.ndarray]:
        """The inner model's log-odds of each pool row and its group's
        threshold ``t_g`` on them."""
        # Read first: it raises for a base that is not constrained.
        accept = view.constrained_predict_proba(X_pool, group_labels(groups))
        if view.n_classes != 2:
            raise ValueError(
                f"{type(self).__name__} needs a binary target, as fairlearn's "
                f"mitigators do; the learner has {view.n_classes} classes."
            )
        score = _logit(view.predict_proba(X_pool)[:, 1])
        return score, group_thresholds(score, groups.codes, accept[:, 1])

    def cells(self, view, score, groups) -> tuple[np.ndarray, np.ndarray, int]:
        """The (group, bin) cell of every pool row and every labeled row."""
        labeled = view.require_labeled_groups("to share the batch among groups")
        code_of = {group: code for code, group in enumerate(groups.groups)}
        # A labeled group absent from the pool has no cell to fill.
        labeled_codes = np.array([code_of.get(g, -1) for g in labeled.groups])
        labeled_codes = labeled_codes[labeled.codes]
        labeled_score = _logit(view.predict_proba(view.X_labeled)[:, 1])
        n_groups = len(groups.groups)
        pool_cells = np.empty(len(score), dtype=int)
        labeled_cells = np.full(len(labeled_score), -1)
        for code in range(n_groups):
            rows = groups.codes == code
            inner = np.quantile(score[rows], np.linspace(0, 1, self.n_strata + 1))
            inner = inner[1:-1]
            pool_cells[rows] = code * self.n_strata + np.searchsorted(
                inner, score[rows], side="right"
            )
            mine = labeled_codes == code
            labeled_cells[mine] = code * self.n_strata + np.searchsorted(
                inner, labeled_score[mine], side="right"
            )
        return pool_cells, labeled_cells[labeled_cells >= 0], n_groups * self.n_strata

    def _query(self, view, X_pool, n_instances, groups, rng):
        score, threshold = self.scores(view, X_pool, groups)
        margin = np.abs(score - threshold)
        pool_cells, labeled_cells, n_cells = self.cells(view, score, groups)
        quota = stratum_quotas(pool_cells, labeled_cells, n_cells, n_instances)
        picks = []
        for cell in np.flatnonzero(quota):
            rows = np.flatnonzero(pool_cells == cell)
            best = select_top_k(-margin[rows], quota[cell], random_state=rng)
            picks.append(rows[best])
        picks = np.concatenate(picks)
        # Best first across cells, as every strategy returns them.
        return picks[np.argsort(margin[picks], kind="stable")]
