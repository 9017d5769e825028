"""FAL: fair active learning by expected unfairness (Anahideh et al., 2022)."""

import sys
import time
import warnings
from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.utils import gen_even_slices
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _num_samples

from ..utils import concat_rows, select_top_k, take_rows
from ._base import (
    BaseQueryStrategy,
    QueryCostWarning,
    check_fairness_set,
    learner_view,
)
from ._influence import (
    LABELED_METRICS,
    FairnessCells,
    LogisticInfluence,
    sample_fairness_rows,
)
from ._uncertainty import entropy_utility
from ._view import QueryContext

_FAST_OWNER = "FALSampling(method='fast')"
_FAST_FIX = "Use method='exact', which refits any classifier."

# Scoring more candidates than this per query warns (once per instance): both
# methods then cost candidates x fairness rows, superlinear in the pool
# (exact FAL over Adult's 32,561 rows did not finish 10 rounds in 15 min).
_COST_WARN_ROWS = 5000
# Candidates refit per task: small enough for progress and load balance, large
# enough that the clone each task makes is noise next to its 2 x 32 refits.
_REFIT_CHUNK = 32
# With the learner's verbose on, a query's progress shows once it has run this
# long: a cheap query (milliseconds with the defaults) prints nothing.
_PROGRESS_DELAY = 2.0


class _Progress:
    """Progress of a query's refits or Newton steps, on stderr.

    Silent unless ``enabled``, and until the work has run ``_PROGRESS_DELAY``
    seconds. tqdm (a dependency of skorch) draws a bar when importable;
    otherwise a line every few seconds.
    """

    def __init__(self, total: int, unit: str, enabled: bool):
        self.total, self.unit, self.enabled, self.done = total, unit, enabled, 0
        self.start = self.last = time.perf_counter()
        self.bar = None
        if not enabled:
            return
        try:
            from tqdm.auto import tqdm
        except ImportError:
            return
        self.bar = tqdm(
            total=total,
            unit=unit,
            desc="FALSampling",
            delay=_PROGRESS_DELAY,
            leave=False,
            file=sys.stderr,
        )

    def update(self, n: int) -> None:
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
            return
        now = time.perf_counter()
        if (
            self.enabled
            and now - self.start >= _PROGRESS_DELAY
            and (now - self.last >= 5.0 or self.done >= self.total)
        ):
            self.last = now
            print(
                f"FALSampling: {self.done:,}/{self.total:,} {self.unit} "
                f"({now - self.start:.0f} s)",
                file=sys.stderr,
                flush=True,
            )

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.close()


def _minmax(values):
    """Min-max normalise to [0, 1]; a constant vector becomes all zeros."""
    values = np.asarray(values, dtype=np.float64)
    span = values.max() - values.min()
    if not np.isfinite(span) or span <= 0:
        return np.zeros_like(values)
    return (values - values.min()) / span


def _warm_start(estimator):
    """Whether refits can start from ``estimator``'s coefficients.

    A warm-started refit minimises the same objective as a cold one; starting
    one added row away from the new optimum about halves its cost. liblinear
    ignores warm starts.
    """
    return isinstance(estimator, LogisticRegression) and estimator.solver != "liblinear"


def _refit_unfairness(estimator, X_lab, y_lab, X_chunk, X_fair, cells):
    """F_y for y in {0, 1} of every candidate row of ``X_chunk``: (rows, 2)."""
    warm = _warm_start(estimator)
    # One clone refit again and again: fit resets an estimator (the scikit-learn
    # contract) and cloning 2|U| times would cost more than some refits.
    model = clone(estimator)
    if warm:
        model.set_params(warm_start=True)
    n_rows = _num_samples(X_chunk)
    out = np.empty((n_rows, 2))
    for i in range(n_rows):
        X_new = concat_rows(X_lab, take_rows(X_chunk, [i]))
        for label in (0, 1):
            if warm:
                model.coef_ = estimator.coef_.copy()
                model.intercept_ = estimator.intercept_.copy()
            model.fit(X_new, np.append(y_lab, label))
            out[i, label] = cells.disparity(np.asarray(model.predict(X_fair)) == 1)
    return out


class FALSampling(BaseQueryStrategy):
    r"""Fair active learning: trade entropy against expected unfairness.

    The strategy of Anahideh, Asudeh and Thirumuruganathan (*Fair active
    learning*, Expert Systems with Applications 199, 2022). For a pool row
    :math:`x` and each label :math:`y`, the model refit on the labeled set
    :math:`L \cup \{(x, y)\}` has an unfairness :math:`F_y(x)` on a fairness
    set :math:`C`; the expected unfairness of labeling :math:`x` is

    .. math:: E(x) = \sum_y p(y \mid x)\, F_y(x),

    with :math:`p(y \mid x)` the current model's probabilities. Entropy
    :math:`H(x)` and :math:`E(x)` are min-max normalised over the scored rows
    (a constant vector normalises to 0) and combined as

    .. math:: s(x) = \alpha\, \tilde H(x) + (1 - \alpha)\, (1 - \tilde E(x)),

    the largest :math:`s` being queried first (ties broken by
    :func:`skfairal.utils.select_top_k`). :math:`F_y` is the chosen
    :mod:`skfairal.metrics` disparity of the refit model's *hard*
    predictions on :math:`C`. A fairness set with a single group has no
    disparity: :math:`E = 0` for every row and the ranking is entropy's.

    **The defaults** (hence ``query_strategy="fal"``) are built to be cheap
    on any pool: ``method="auto"`` (the Newton step of ``"fast"`` when the
    learner's last step is a logistic regression it can read, real refits
    otherwise), Nested FAL over ``n_candidates=64`` rows and a fairness set
    of at most ``max_fairness_rows=2000`` pool rows. A query then costs about
    2.5x one ``predict_proba`` over a :math:`10^5`-row pool with a logistic
    regression (``benchmarks/scale.py``), or 128 refits with another model.
    The authors' FAL, every pool row refit on the whole pool, is
    ``FALSampling(method="exact", n_candidates=None, max_fairness_rows=None)``;
    it and ``method="fast", n_candidates=None`` grow faster than the pool,
    and warn (``QueryCostWarning``, once per instance) when they would
    score more than 5,000 rows in a query.

    **Methods.**

    - ``method="exact"``: what the authors do. For each candidate and each
      label a clone of the learner's fitted base estimator (a Pipeline
      whole) is refit on the labeled rows plus :math:`(x, y)`:
      :math:`2 |U|` refits per query, parallel over candidates with
      ``n_jobs``.
    - ``method="fast"``: no refit. The refit is replaced by one damped
      Newton step of the learner's binary
      :class:`~sklearn.linear_model.LogisticRegression`, read in its feature
      space (a Pipeline's other steps are held fixed), and each row of
      :math:`C` is predicted from its updated score: see
      :class:`LogisticInfluence`, which computes every candidate and both
      labels in a few blocked matrix products and skips, exactly, the rows
      of :math:`C` no candidate can flip. Its work grows as :math:`|U|`
      times the rows of :math:`C` near the decision boundary, so on large
      pools combine it with ``n_candidates`` and ``max_fairness_rows``.
      Another last step, multiclass, ``class_weight``, L1 or elastic-net
      penalties and the ``liblinear`` solver raise a ``ValueError`` that
      points to ``method="exact"``: ``"fast"`` never falls back (``"auto"``
      does).

      *Why hard predictions and not a linearised soft rate*: the expected
      Newton step vanishes, :math:`\sum_y p(y \mid x) \Delta(x, y) = 0`
      (the model's own label distribution has zero expected gradient), so
      any disparity that is linear in :math:`\Delta` (the first-order change
      of each group's mean score, say) has the same :math:`E(x)` for every
      candidate, and its normalisation would rank the pool by rounding
      noise. :math:`E(x)` varies only through the non-linearity of the
      disparity; thresholding the updated scores keeps that non-linearity
      exactly and linearises only the parameter update. Rows of :math:`C`
      right at the boundary may flip differently than after a real refit.
    - ``method="auto"`` (the default): ``"fast"`` when
      :meth:`LogisticInfluence.can_read` accepts the learner's fitted base
      estimator (a binary ``LogisticRegression``, alone or last in a
      Pipeline, L2 or no penalty, no ``class_weight``, not ``liblinear``),
      ``"exact"`` for anything else, decided at each query. It never raises
      the error of ``"fast"``; pass ``method="fast"`` to be told when the
      Newton step cannot be used.

    **Nested FAL** (``n_candidates=k``): :math:`E` is computed only for the
    ``k`` rows of highest entropy (``2k`` refits instead of ``2|U|``); those
    ``k`` are ranked by :math:`s` (normalised over the ``k``) and the other
    rows follow them, by entropy.

    **Progress.** With the learner's ``verbose`` on (read from the query's
    :class:`QueryContext`), a query that runs longer than two seconds shows
    its refits or Newton steps on stderr (a tqdm bar when tqdm is installed).

    **Adaptive alpha** (``alpha_schedule``), from the query's
    :class:`QueryContext`: ``"linear"`` starts the learner's simulation
    (``fit`` with ``budget > 0``) at :math:`\alpha = 1` (accuracy first) and
    lowers it linearly to ``alpha`` at the last of its ``n_rounds``;
    outside a simulation ``alpha`` is used. A callable
    ``alpha_schedule(round_index)`` returns the alpha of a round
    (``context.round``, 1 for the first query after fitting). With an
    effective alpha of 1 no unfairness is computed and the picks are exactly
    those of :func:`entropy_sampling` with the same seed.

    The measured cost and effect of each method are in the user guide
    (:doc:`/user_guide/strategies`).

    Parameters
    ----------
    alpha : float in [0, 1], default=0.6
        Weight of the entropy; ``1 - alpha`` weighs fairness. The authors
        and Sharaf et al. (2022) use 0.6.
    metric : {"demographic_parity", "equalized_odds", "error_rate_balance"}
        The unfairness :math:`F` (default ``"demographic_parity"``): the
        between-groups :func:`~skfairal.metrics.demographic_parity_difference`,
        :func:`~skfairal.metrics.equalized_odds_difference` (worst of the TPR
        and FPR gaps) or :func:`~skfairal.metrics.error_rate_balance_difference`
        (gap in error rate, PANDA's second constraint), for any number of
        groups. The last two need labels on :math:`C`, so a validation
        ``fairness_set``.
    method : {"auto", "exact", "fast"}, default="auto"
        Real refits, the first-order update of a logistic regression, or
        (``"auto"``) the latter whenever the learner's model allows it.
    n_candidates : int or None, default=64
        Nested FAL: compute :math:`E` for this many top-entropy rows only.
        None scores the whole pool, as the authors do: :math:`2|U|` refits
        or :math:`|U|` Newton steps per query.
    fairness_set : "pool" or tuple, default="pool"
        The set :math:`C` on which unfairness is measured: ``"pool"``, the
        pool itself with its ``sensitive_features`` (labels are not needed
        for demographic parity), or a labeled validation set
        ``(X_val, y_val, sensitive_features_val)`` whose ``y_val`` uses the
        learner's classes (it may be None for demographic parity).
    max_fairness_rows : int or None, default=2000
        With ``fairness_set="pool"``, measure the unfairness on a sample of
        at most this many pool rows, drawn from the query's seed (None: the
        whole pool, as the authors do). Every candidate's unfairness is read
        on every row of :math:`C`, so on large pools this keeps a query
        linear in the pool size.
    alpha_schedule : None, "linear" or callable, default=None
        Constant ``alpha``, the linear schedule, or ``round_index -> alpha``.
    n_jobs : int or None, default=None
        Parallel jobs (joblib) over candidates for ``method="exact"``.
    random_state : int, RandomState instance or None, default=None
        Seed used when the call passes none (a learner passes its own, which
        then wins): tie-breaking and the ``max_fairness_rows`` sample.

    See Also
    --------
    LogisticInfluence : the first-order refit of ``method="fast"``.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skfairal import FairActiveClassifier
    >>> from skfairal.datasets import make_biased_classification
    >>> from skfairal.query import FALSampling
    >>> X, y, g = make_biased_classification(300, random_state=0)
    >>> learner = FairActiveClassifier(LogisticRegression())
    >>> learner = learner.fit(X[:40], y[:40], sensitive_features=g[:40])
    >>> fal = FALSampling()  # "fal": fast here, Nested over 64 rows
    >>> fal(learner, X[40:], 3, sensitive_features=g[40:], random_state=0).shape
    (3,)

    The authors' variant, every pool row refit twice (120 refits here):

    >>> paper = FALSampling(method="exact", n_candidates=None, max_fairness_rows=None)
    >>> paper(learner, X[40:100], 3, sensitive_features=g[40:100]).shape
    (3,)
    """

    _parameter_constraints = {
        "alpha": [Interval(Real, 0, 1, closed="both")],
        "metric": [
            StrOptions({"demographic_parity", "equalized_odds", "error_rate_balance"})
        ],
        "method": [StrOptions({"auto", "exact", "fast"})],
        "n_candidates": [Interval(Integral, 1, None, closed="left"), None],
        "fairness_set": [StrOptions({"pool"}), tuple],
        "max_fairness_rows": [Interval(Integral, 2, None, closed="left"), None],
        "alpha_schedule": [StrOptions({"linear"}), callable, None],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        alpha: float = 0.6,
        metric: str = "demographic_parity",
        method: str = "auto",
        n_candidates: int | None = 64,
        fairness_set="pool",
        max_fairness_rows: int | None = 2000,
        alpha_schedule=None,
        n_jobs: int | None = None,
        random_state=None,
    ):
        self.alpha = alpha
        self.metric = metric
        self.method = method
        self.n_candidates = n_candidates
        self.fairness_set = fairness_set
        self.max_fairness_rows = max_fairness_rows
        self.alpha_schedule = alpha_schedule
        self.n_jobs = n_jobs
        self.random_state = random_state

    # -- public pieces ---------------------------------------------------------

    def effective_alpha(self, context) -> float:
        """The alpha of a query (see ``alpha_schedule``).

        Parameters
        ----------
        context : QueryContext, LearnerView or fitted learner
            Where the query stands; a learner gives the context of its next
            query.

        Returns
        -------
        alpha : float
        """
        self._validate_params()
        if not isinstance(context, QueryContext):
            if not hasattr(context, "context"):
                context = learner_view(context, type(self).__name__)
            context = context.context
        return self._alpha(context)

    def expected_unfairness(
        self,
        learner,
        X_pool,
        *,
        sensitive_features=None,
        candidates=None,
        random_state=None,
    ) -> np.ndarray:
        """:math:`E(x) = \\sum_y p(y|x) F_y(x)` for pool rows ``candidates``.

        The call is validated as a query is (see :class:`BaseQueryStrategy`).

        Parameters
        ----------
        learner : FairActiveClassifier
            Fitted on a binary problem.
        X_pool : array-like of shape (n_pool, n_features)
            Unlabeled rows.
        sensitive_features : array-like of shape (n_pool,), default=None
            Group labels of the pool rows (required with
            ``fairness_set="pool"``).
        candidates : array-like of int, default=None
            Rows to score; None scores all.
        random_state : int, RandomState instance or None, default=None
            Seed of the ``max_fairness_rows`` sample; None falls back to the
            ``random_state`` parameter.

        Returns
        -------
        unfairness : ndarray of shape (n_candidates,)
            Expected unfairness of labeling each candidate.
        """
        view, groups, rng = self._validate_call(
            learner, X_pool, 1, sensitive_features, random_state
        )
        self._check_binary(view)
        candidates = (
            np.arange(_num_samples(X_pool))
            if candidates is None
            else np.asarray(candidates, dtype=np.intp)
        )
        proba = view.predict_proba(X_pool)
        return self._expected_unfairness(
            view, X_pool, groups, proba, candidates, rng, self._method(view)
        )

    # -- the query ------------------------------------------------------------

    def _query(self, view, X_pool, n_instances, groups, rng):
        proba = view.predict_proba(X_pool)
        entropy = entropy_utility(proba)
        n_pool = len(entropy)
        alpha = self._alpha(view.context)
        if alpha == 1.0:
            return select_top_k(entropy, n_instances, random_state=rng)
        self._check_binary(view)
        if self.n_candidates is None or self.n_candidates >= n_pool:
            candidates = np.arange(n_pool)
        else:
            candidates = select_top_k(entropy, self.n_candidates, random_state=rng)
        method = self._method(view)
        if len(candidates) > _COST_WARN_ROWS:
            self._warn_cost(method, len(candidates), n_pool)
        unfair = self._expected_unfairness(
            view, X_pool, groups, proba, candidates, rng, method
        )
        # Both terms are normalised over the scored rows. (Normalising the
        # entropy over the whole pool instead, which leaves E to decide among
        # Nested FAL's near-top-entropy candidates, lowered disparity less on
        # the biased synthetic problem: 0.193 vs 0.172, 30 seeds.)
        score = alpha * _minmax(entropy[candidates]) + (1 - alpha) * (
            1.0 - _minmax(unfair)
        )
        # Candidates (scores in [0, 1]) come before the rest, ranked by entropy.
        utility = _minmax(entropy) - 2.0
        utility[candidates] = score
        return select_top_k(utility, n_instances, random_state=rng)

    def _alpha(self, context: QueryContext) -> float:
        if self.alpha_schedule is None:
            return float(self.alpha)
        round_index = context.round
        if callable(self.alpha_schedule):
            alpha = self.alpha_schedule(round_index)
            if (
                isinstance(alpha, bool)
                or not isinstance(alpha, Real)
                or not 0 <= alpha <= 1
            ):
                raise ValueError(
                    f"alpha_schedule({round_index}) returned {alpha!r}; it must be "
                    "a number in [0, 1]."
                )
            return float(alpha)
        n_rounds = context.n_rounds
        if n_rounds is None or n_rounds < 2 or not 1 <= round_index <= n_rounds:
            return float(self.alpha)
        progress = (round_index - 1) / (n_rounds - 1)
        return float(1.0 - (1.0 - self.alpha) * progress)

    def _method(self, view) -> str:
        """``method``, with ``"auto"`` resolved for the learner's model."""
        if self.method != "auto":
            return self.method
        return "fast" if LogisticInfluence.can_read(view.estimator) else "exact"

    def _warn_cost(self, method: str, n_scored: int, n_pool: int) -> None:
        # Once per instance, so a run warns at its first query, not each round.
        if getattr(self, "_cost_warned", False):
            return
        self._cost_warned = True
        n_fair = (
            min(n_pool, self.max_fairness_rows or n_pool)
            if isinstance(self.fairness_set, str)
            else _num_samples(self.fairness_set[0])
        )
        if method == "exact":
            work = (
                f"{2 * n_scored:,} refits of the base estimator, each predicting "
                f"{n_fair:,} fairness rows"
            )
        else:
            work = (
                f"{n_scored:,} Newton steps, each read on up to {n_fair:,} "
                f"fairness rows ({n_scored * n_fair:,} score changes)"
            )
        warnings.warn(
            f"FALSampling(method={self.method!r}, n_candidates="
            f"{self.n_candidates!r}) scores {n_scored:,} of the {n_pool:,} pool "
            f"rows per query: {work}, a cost that grows faster than the pool. "
            "Pass n_candidates=64 (Nested FAL, the default) to score the 64 rows "
            "of highest entropy only"
            + (" (128 refits)." if method == "exact" else "."),
            QueryCostWarning,
            stacklevel=3,
        )

    def _check_binary(self, view):
        if view.n_classes != 2:
            raise ValueError(
                "FALSampling supports binary classification only; the learner "
                f"has {view.n_classes} classes."
            )

    def _fairness_set(self, view, X_pool, groups, rng):
        """(rows, GroupEncoding, class codes or None) of the fairness set C."""
        if isinstance(self.fairness_set, str):  # "pool"
            if self.metric in LABELED_METRICS:
                raise ValueError(
                    f"metric={self.metric!r} needs labels on the fairness set, "
                    "which the pool does not have: pass fairness_set=(X_val, "
                    "y_val, sensitive_features_val), or use "
                    "metric='demographic_parity'."
                )
            if groups is None:
                raise ValueError(
                    "FALSampling with fairness_set='pool' measures unfairness on "
                    "the pool and needs its sensitive_features: pass one group "
                    "label per row of X_pool, or a labeled fairness_set=(X_val, "
                    "y_val, sensitive_features_val)."
                )
            X_fair, groups = sample_fairness_rows(
                X_pool, groups, self.max_fairness_rows, rng
            )
            return X_fair, groups, None
        X_val, encoding, y_codes = check_fairness_set(
            self.fairness_set, view.classes, alternatives="'pool' or "
        )
        if y_codes is None and self.metric in LABELED_METRICS:
            raise ValueError(
                f"metric={self.metric!r} needs y_val in fairness_set; it is None."
            )
        if self.metric not in LABELED_METRICS:
            # Demographic parity ignores labels: its cells are the groups.
            y_codes = None
        return X_val, encoding, y_codes

    def _expected_unfairness(
        self, view, X_pool, groups, proba, candidates, rng, method
    ):
        # The model is checked first, so that its error does not depend on
        # the data.
        influence = None
        if method == "fast":
            influence = LogisticInfluence(view, owner=_FAST_OWNER, fix=_FAST_FIX)
        X_fair, fair_groups, y_fair = self._fairness_set(view, X_pool, groups, rng)
        if len(np.unique(fair_groups.codes)) < 2:
            # One group (a pool whose other groups are used up, say): no
            # disparity to measure, E is constant and the ranking is entropy's.
            return np.zeros(len(candidates))
        verbose = view.context.verbose > 0
        if influence is not None:
            whole = len(candidates) == len(proba) and np.array_equal(
                candidates, np.arange(len(proba))
            )
            with _Progress(len(candidates), "Newton steps", verbose) as progress:
                unfair = influence.unfairness(
                    X_pool if whole else take_rows(X_pool, candidates),
                    X_fair,
                    fair_groups,
                    y_fair,
                    metric=self.metric,
                    progress=progress.update,
                )
        else:
            cells = FairnessCells.of(fair_groups.codes, y_fair, self.metric)
            with _Progress(2 * len(candidates), "refits", verbose) as progress:
                unfair = self._exact_unfairness(
                    view, X_pool, candidates, X_fair, cells, progress
                )
        return (proba[candidates, :2] * unfair).sum(axis=1)

    def _exact_unfairness(self, view, X_pool, candidates, X_fair, cells, progress):
        n_jobs, n_cand = effective_n_jobs(self.n_jobs), len(candidates)
        n_chunks = max(min(n_jobs, n_cand), -(-n_cand // _REFIT_CHUNK))
        # Each task gets its candidates' rows, not the pool, so a process
        # backend does not ship the whole pool with every chunk.
        tasks = [
            delayed(_refit_unfairness)(
                view.estimator,
                view.X_labeled,
                view.y_encoded,
                take_rows(X_pool, candidates[s]),
                X_fair,
                cells,
            )
            for s in gen_even_slices(n_cand, n_chunks)
        ]
        parts = []
        # Waves of tasks on one pool of workers report progress with any
        # joblib (its generator output is 1.3 and later).
        wave = 4 * n_jobs
        with Parallel(n_jobs=self.n_jobs) as parallel:
            for lo in range(0, len(tasks), wave):
                done = parallel(tasks[lo : lo + wave])
                parts.extend(done)
                progress.update(2 * sum(len(part) for part in done))
        return np.concatenate(parts)
