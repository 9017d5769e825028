"""FAL-CUR: fair clusters, then uncertainty and representativeness (Fajri et al.)."""

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _num_samples

from ..utils import select_top_k, take_rows
from ._base import BaseQueryStrategy
from ._uncertainty import entropy_utility

# k-means is fitted on a sample of the candidates: 20 rows a cluster give
# stable centres at a fraction of the cost of the fair assignment.
_FIT_ROWS_PER_CLUSTER = 20
_MIN_FIT_ROWS = 2000
_LLOYD_ITER = 10
# max_candidates="auto": the fair assignment costs about rows x clusters (its
# rounds grow with the clusters), so that product is what is bounded.
_AUTO_ROWS_TIMES_CLUSTERS = 100_000
_AUTO_MIN_CANDIDATES = 2000


def _squared_norms(F) -> np.ndarray:
    if sp.issparse(F):
        return np.asarray(F.multiply(F).sum(axis=1), dtype=np.float64).ravel()
    return np.einsum("ij,ij->i", F, F)


def _kmeans_pp(F, norms, k, rng) -> np.ndarray:
    """k-means++ seeding (Arthur and Vassilvitskii 2007), one draw per centre."""
    n = len(F)
    chosen = [rng.randint(n)]
    closest = np.maximum(norms - 2.0 * (F @ F[chosen[0]]) + norms[chosen[0]], 0.0)
    for _ in range(1, k):
        total = closest.sum()
        if total > 0:
            draw = rng.random_sample() * total
            i = min(int(np.searchsorted(np.cumsum(closest), draw, side="right")), n - 1)
        else:
            # Every distinct row is a centre already: the rest repeat one.
            i = rng.randint(n)
        chosen.append(i)
        np.minimum(
            closest, np.maximum(norms - 2.0 * (F @ F[i]) + norms[i], 0.0), out=closest
        )
    return F[chosen].copy()


def _lloyd(F, norms, k, rng) -> np.ndarray:
    """Centres of Lloyd's k-means from k-means++ seeds (dense F)."""
    centres = _kmeans_pp(F, norms, k, rng)
    labels = None
    for _ in range(_LLOYD_ITER):
        new = ((centres * centres).sum(axis=1) - 2.0 * (F @ centres.T)).argmin(axis=1)
        if labels is not None and np.array_equal(new, labels):
            break
        labels = new
        order = np.argsort(labels, kind="stable")
        filled, starts, counts = np.unique(
            labels[order], return_index=True, return_counts=True
        )
        # An empty cluster keeps its centre (a row of F): it may fill again.
        centres[filled] = np.add.reduceat(F[order], starts) / counts[:, None]
    return centres


def _capacities(counts, shares) -> np.ndarray:
    """Seats of each group in each cluster: the group's rows split as ``shares``.

    Largest remainders, so a group's seats add up to its rows exactly.
    """
    raw = counts[:, None] * shares[None, :]
    seats = np.floor(raw).astype(np.intp)
    for g, row in enumerate(raw):
        missing = int(counts[g] - seats[g].sum())
        if missing:
            seats[g, np.argsort(seats[g] - row, kind="stable")[:missing]] += 1
    return seats


def _stable_assignment(cost, codes, seats) -> np.ndarray:
    """Each row to its nearest cluster with a seat left for its group.

    Row-proposing deferred acceptance (Gale and Shapley) with the seats of
    :func:`_capacities`: every unplaced row proposes to its cheapest cluster
    not yet refused to it; a cluster keeps, per group, the cheapest rows up
    to its seats and refuses the rest. As rows and clusters rank each other
    by the same cost, the result is the greedy "closest pairs first"
    assignment, whatever the rows' order. Every group's rows fill its seats
    exactly (the seats add up to its rows).
    """
    n, k = cost.shape
    cost = cost.copy()
    # One "seat block" per (group, cluster): all groups run in one loop.
    base = codes * k
    limit = seats.ravel()
    block = np.empty(n, dtype=np.intp)
    free = np.arange(n)
    while free.size:
        block[free] = base[free] + cost[free].argmin(axis=1)
        touched = np.zeros(limit.size, dtype=bool)
        touched[block[free]] = True
        rows = np.flatnonzero(touched[block])
        held = block[rows]
        order = np.lexsort((cost[rows, held - base[rows]], held))
        held = held[order]
        starts = np.flatnonzero(np.r_[True, held[1:] != held[:-1]])
        rank = np.arange(len(held)) - np.repeat(
            starts, np.diff(np.r_[starts, len(held)])
        )
        free = rows[order[rank >= limit[held]]]
        cost[free, block[free] - base[free]] = np.inf
    return block - base


def _fair_clusters(features, codes, n_clusters, *, fair, rng):
    """Clusters that hold every group in its share of the rows, and distances.

    k-means (k-means++ seeds, Lloyd's iterations) on a sample of the rows
    gives the centres and, from the rows' nearest centres, each cluster's
    size. With ``fair``, each group then gets seats in every cluster in
    proportion to the cluster's size (:func:`_capacities`) and the rows are
    placed by :func:`_stable_assignment`, and a cluster's centre becomes its
    members' mean; without, a row goes to its nearest centre (plain
    k-means).

    Parameters
    ----------
    features : ndarray or sparse matrix of shape (n_rows, n_features)
    codes : ndarray of int of shape (n_rows,)
        Group code of each row, ``0 .. n_groups - 1``, every code present.
    n_clusters : int
        At most ``n_rows``.
    fair : bool
    rng : numpy.random.RandomState

    Returns
    -------
    labels : ndarray of shape (n_rows,), dtype=intp
    distances : ndarray of shape (n_rows,)
        Euclidean distance of each row to its cluster's centre.
    """
    n = features.shape[0]
    k = n_clusters
    n_fit = min(n, max(_MIN_FIT_ROWS, _FIT_ROWS_PER_CLUSTER * k))
    fit = np.sort(rng.choice(n, n_fit, replace=False)) if n_fit < n else slice(None)
    sample = features[fit]
    sample = sample.toarray() if sp.issparse(sample) else np.asarray(sample)
    centres = _lloyd(sample, _squared_norms(sample), k, rng)
    # Squared distances less each row's own norm: enough to compare clusters.
    cost = np.asarray(features @ centres.T, dtype=np.float64)
    cost *= -2.0
    cost += (centres * centres).sum(axis=1)
    labels = cost.argmin(axis=1)
    if fair and k > 1:
        shares = np.bincount(labels, minlength=k) / n
        labels = _stable_assignment(
            cost, codes, _capacities(np.bincount(codes), shares)
        )
        # A fair cluster's centre is its members' mean: the seats moved rows
        # away from the k-means centres.
        counts = np.bincount(labels, minlength=k)
        members = sp.csr_matrix((np.ones(n), (labels, np.arange(n))), shape=(k, n))
        filled = counts > 0
        sums = members @ features
        sums = sums.toarray() if sp.issparse(sums) else np.asarray(sums)
        centres[filled] = sums[filled] / counts[filled, None]
    own = centres[labels]
    if sp.issparse(features):
        # |x - c|^2 = |x|^2 - 2 x.c + |c|^2, without densifying the rows.
        cross = np.asarray(features.multiply(own).sum(axis=1)).ravel()
        squared = _squared_norms(features) - 2.0 * cross + _squared_norms(own)
        return labels, np.sqrt(np.maximum(squared, 0.0))
    return labels, np.linalg.norm(features - own, axis=1)


class FALCURSampling(BaseQueryStrategy):
    r"""FAL-CUR: one row from each fair cluster, by uncertainty and representativeness.

    After Fajri, Saxena, Pei and Pechenizkiy (*FAL-CUR: Fair Active Learning
    using Uncertainty and Representativeness on Fair Clustering*, Expert
    Systems with Applications, 2024). Each query:

    1. **Fair clustering.** The pool, in the learner's feature space (a
       Pipeline's rows transformed by every step but the last), is split
       into ``n_clusters`` clusters that each hold every group in the
       pool's proportions: k-means gives the centres and each cluster's
       size; each group then has seats in every cluster in proportion to
       the cluster's size, and every row takes a seat of its group in the
       nearest cluster that has one left, the rows nearest a cluster
       seated first (a stable assignment, by deferred acceptance). A
       cluster is then a neighbourhood of the feature space in which no
       group is over- or under-represented (up to the rounding of seats).
    2. **Scores.** Each row's uncertainty :math:`U(x)`, the entropy of the
       model's probabilities divided by :math:`\log K` (so in [0, 1]), and
       its representativeness :math:`R(x)`, its similarity to its cluster's
       centre (the mean of the fair cluster's rows),
       :math:`1 - (d - d_{\min}) / (d_{\max} - d_{\min})` with
       :math:`d` the Euclidean distance and :math:`d_{\min}, d_{\max}` the
       cluster's nearest and farthest rows (1 for a cluster of one row),
       combine into

       .. math:: s(x) = \beta\, R(x) + (1 - \beta)\, U(x).

    3. **Selection.** The best-scoring row of each cluster; the clusters
       whose best rows score highest first. A batch larger than the number
       of clusters takes every cluster's second-best row next, and so on.

    **From the authors, and ours.** The authors' code (github.com/
    rickymaulanafajri/FAL-CUR) fits k-means, then reassigns the rows so that
    no cluster holds more than the pool's share of a (binary) group, each
    row to its nearest centre with room, one row at a time; it scores
    ``beta * similarity + (1 - beta) * entropy`` with ``beta = 0.6`` (the
    default here) and labels the top row of each of its 180 clusters per
    round (here ``n_clusters=None``: as many clusters as rows queried). The
    paper's full text was not available to us; these choices are ours:

    - the balance constraint is exact (each cluster's group mix is the
      pool's, up to rounding) for any number of groups, and the greedy is
      made independent of the rows' order: nearest row-cluster pairs first
      (a stable matching), not rows in turn; the centres are fitted on a
      sample of the candidates (20 rows a cluster, at least 2,000);
    - the code's "similarity" is the distance to the k-means centroid,
      which, added to the score, favours the rows farthest from it; we take
      the similarity the method's name asks for, to the fair cluster's own
      mean, normalised within the cluster, and normalise the entropy, so
      :math:`\beta` weighs two numbers in [0, 1]
      (``representativeness="distance"`` scores the normalised distance
      instead, as the code does);
    - the code clusters the features with the entropy as one more column;
      we cluster the features alone (the model changes every round, the
      neighbourhoods need not);
    - on pools larger than ``max_candidates`` rows, a random sample of that
      many (from the query's seed) is clustered and scored, and the picks
      come from it: a query then costs the same at any pool size. The
      default, ``"auto"``, is ``max(2000, 100000 // n_clusters)`` rows: the
      fair assignment costs about rows times clusters.

    Needs the sensitive features of the pool (any number of groups; several
    columns form intersectional groups), but not of the labeled rows.

    Parameters
    ----------
    beta : float in [0, 1], default=0.6
        Weight of representativeness against uncertainty; 0 is entropy
        sampling within the clusters, 1 picks each cluster's most central
        row. 0.6 is the authors' value.
    n_clusters : int or None, default=None
        Number of fair clusters; None uses ``n_instances``, one row from
        each (as the authors do). With more clusters than rows queried, the
        rows come from the clusters whose best rows score highest. At most
        the number of candidates.
    fair_clustering : bool, default=True
        False clusters with plain k-means (the paper's ablation).
    representativeness : {"similarity", "distance"}, default="similarity"
        :math:`R(x)` as above, or ``1 - R(x)``, the normalised distance to
        the centre, which favours a cluster's outlying rows (the authors'
        code as written).
    max_candidates : int, "auto" or None, default="auto"
        Largest number of pool rows clustered and scored (at least
        ``n_instances``); a larger pool is sampled uniformly. "auto" is
        ``max(2000, 100000 // n_clusters)``. None scores every row (the
        authors' setting), at a cost of about rows times clusters in time
        and memory.
    random_state : int, RandomState instance or None, default=None
        Seed of the candidate sample, the clustering and the ties, used when
        the call's ``random_state`` is None.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skfairal import FairActiveClassifier
    >>> from skfairal.datasets import make_biased_classification
    >>> from skfairal.query import FALCURSampling
    >>> X, y, g = make_biased_classification(600, random_state=0)
    >>> learner = FairActiveClassifier(LogisticRegression())
    >>> learner = learner.fit(X[:60], y[:60], sensitive_features=g[:60])
    >>> strategy = FALCURSampling(random_state=0)
    >>> picks = strategy(learner, X[60:], 4, sensitive_features=g[60:])
    >>> clusters, scores = strategy.cluster_scores(
    ...     learner, X[60:], 4, sensitive_features=g[60:]
    ... )
    >>> sorted(clusters[picks].tolist())  # one row from each cluster
    [0, 1, 2, 3]
    >>> shares = [g[60:][clusters == c].mean() for c in range(4)]
    >>> np.round(shares, 2)  # the pool's share of group 1 is 0.3
    array([0.3 , 0.29, 0.3 , 0.3 ])
    """

    requires_pool_groups = True

    _parameter_constraints = {
        "beta": [Interval(Real, 0, 1, closed="both")],
        "n_clusters": [Interval(Integral, 1, None, closed="left"), None],
        "fair_clustering": ["boolean"],
        "representativeness": [StrOptions({"similarity", "distance"})],
        "max_candidates": [
            Interval(Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
            None,
        ],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        beta: float = 0.6,
        n_clusters: int | None = None,
        fair_clustering: bool = True,
        representativeness: str = "similarity",
        max_candidates: int | str | None = "auto",
        random_state=None,
    ):
        self.beta = beta
        self.n_clusters = n_clusters
        self.fair_clustering = fair_clustering
        self.representativeness = representativeness
        self.max_candidates = max_candidates
        self.random_state = random_state

    def cluster_scores(
        self,
        learner,
        X_pool,
        n_instances: int = 1,
        *,
        sensitive_features,
        random_state=None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The fair cluster and the score :math:`s(x)` of every pool row.

        What a query with the same arguments clusters and scores (the same
        seed gives the same clusters).

        Parameters
        ----------
        learner : FairActiveClassifier or fitted classifier
        X_pool : array-like, sparse matrix or DataFrame of shape (n_pool, ...)
        n_instances : int, default=1
            The batch the clusters are made for (with ``n_clusters=None``).
        sensitive_features : array-like of shape (n_pool,) or (n_pool, k)
            Group labels of the pool rows.
        random_state : int, RandomState instance or None, default=None

        Returns
        -------
        clusters : ndarray of shape (n_pool,), dtype=intp
            Cluster of each row; -1 for rows outside the candidate sample.
        scores : ndarray of shape (n_pool,)
            :math:`\\beta R(x) + (1 - \\beta) U(x)`; NaN outside the sample.
        """
        view, groups, rng = self._validate_call(
            learner, X_pool, n_instances, sensitive_features, random_state
        )
        candidates, labels, scores = self._score(view, X_pool, n_instances, groups, rng)
        n_pool = len(groups.codes)
        clusters = np.full(n_pool, -1, dtype=np.intp)
        clusters[candidates] = labels
        full = np.full(n_pool, np.nan)
        full[candidates] = scores
        return clusters, full

    def _score(self, view, X_pool, n_instances, groups, rng):
        if self.fair_clustering and groups.n_groups < 2:
            raise ValueError(
                "FALCURSampling balances its clusters across the groups of "
                f"sensitive_features, which holds one group ({groups.groups[0]!r}) "
                "for the pool; pass the pool's groups, or fair_clustering=False."
            )
        n_pool = _num_samples(X_pool)
        k = self.n_clusters or n_instances
        n_candidates = n_pool
        if self.max_candidates is not None:
            bound = self.max_candidates
            if bound == "auto":
                bound = max(_AUTO_MIN_CANDIDATES, _AUTO_ROWS_TIMES_CLUSTERS // k)
            n_candidates = min(n_pool, max(bound, n_instances))
        if n_candidates < n_pool:
            candidates = np.sort(rng.choice(n_pool, n_candidates, replace=False))
            X_pool = take_rows(X_pool, candidates)
        else:
            candidates = np.arange(n_pool)
        # Codes of the groups the candidates hold, consecutive from 0.
        _, codes = np.unique(groups.codes[candidates], return_inverse=True)
        proba = view.predict_proba(X_pool)
        uncertainty = np.zeros(n_candidates)
        if proba.shape[1] > 1:
            uncertainty = entropy_utility(proba) / np.log(proba.shape[1])
        k = min(k, n_candidates)
        labels, distance = _fair_clusters(
            view.features(X_pool), codes, k, fair=self.fair_clustering, rng=rng
        )
        far = np.zeros(k)
        np.maximum.at(far, labels, distance)
        near = np.full(k, np.inf)
        np.minimum.at(near, labels, distance)
        spread = far[labels] - near[labels]
        representativeness = np.ones(n_candidates)
        np.divide(
            far[labels] - distance, spread, out=representativeness, where=spread > 0
        )
        if self.representativeness == "distance":
            representativeness = 1.0 - representativeness
        scores = self.beta * representativeness + (1.0 - self.beta) * uncertainty
        return candidates, labels, scores

    def _query(self, view, X_pool, n_instances, groups, rng):
        candidates, labels, scores = self._score(view, X_pool, n_instances, groups, rng)
        # Rank of each row within its cluster, best first (seeded ties).
        order = np.lexsort((rng.random_sample(len(scores)), -scores, labels))
        sorted_labels = labels[order]
        starts = np.flatnonzero(np.r_[True, sorted_labels[1:] != sorted_labels[:-1]])
        sizes = np.diff(np.r_[starts, len(order)])
        rank = np.empty(len(order), dtype=np.intp)
        rank[order] = np.arange(len(order)) - np.repeat(starts, sizes)
        # Scores lie in [0, 1]: every cluster's r-th row precedes any (r+1)-th.
        utility = scores - 2.0 * rank
        return candidates[select_top_k(utility, n_instances, random_state=rng)]
