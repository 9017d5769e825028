"""The strategy contract: one validation, one seed rule, declared hooks."""

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import _num_samples, check_is_fitted

from ..utils import check_sensitive_features
from ._view import LearnerView


def check_query_args(learner, X_pool, n_instances) -> int:
    """Check the arguments every strategy receives; return the pool size.

    Raises
    ------
    NotFittedError
        If ``learner`` is not fitted.
    ValueError
        If the pool is None or empty, or ``n_instances`` is not an integer in
        ``[1, n_pool]``.
    """
    check_is_fitted(learner)
    if X_pool is None:
        raise ValueError("X_pool is None: pass the unlabeled rows to choose from.")
    try:
        n_pool = _num_samples(X_pool)
    except TypeError as exc:
        raise ValueError(
            f"X_pool must be array-like with one row per sample: {exc}"
        ) from exc
    if n_pool == 0:
        raise ValueError("X_pool is empty: there is nothing left to query.")
    if isinstance(n_instances, bool) or not isinstance(n_instances, Integral):
        raise ValueError(f"n_instances must be an integer, got {n_instances!r}.")
    if n_instances < 1:
        raise ValueError(f"n_instances must be at least 1, got {n_instances}.")
    if n_instances > n_pool:
        raise ValueError(
            f"n_instances={n_instances} is larger than the pool: X_pool has "
            f"{n_pool} rows."
        )
    return n_pool


def check_fairness_set(fairness_set, classes, *, alternatives: str = ""):
    """Validate a labeled validation set ``(X_val, y_val, sensitive_features_val)``.

    ``y_val`` may be None (the caller decides whether its metric needs
    labels); when given it must hold one label per row, all among the
    learner's ``classes``. ``alternatives`` names other accepted values in the
    error message (FAL also accepts ``"pool"``).

    Returns
    -------
    X_val : array-like
        The rows, unchanged.
    encoding : GroupEncoding
        The validated groups of the rows.
    y_codes : ndarray of int or None
        ``y_val`` as indices into ``classes``.
    """
    if len(fairness_set) != 3:
        raise ValueError(
            f"fairness_set must be {alternatives}a tuple (X_val, y_val, "
            f"sensitive_features_val), got a tuple of {len(fairness_set)}."
        )
    X_val, y_val, groups_val = fairness_set
    n_val = _num_samples(X_val)
    encoding = check_sensitive_features(
        groups_val, n_val, name="sensitive_features_val"
    )
    if y_val is None:
        return X_val, encoding, None
    y_val = np.asarray(y_val)
    if y_val.ndim != 1 or len(y_val) != n_val:
        raise ValueError(
            f"y_val must hold one label per row of X_val ({n_val} rows), got "
            f"shape {y_val.shape}."
        )
    classes = np.asarray(classes)
    unseen = [v for v in np.unique(y_val).tolist() if v not in classes.tolist()]
    if unseen:
        raise ValueError(
            f"y_val contains label(s) {unseen} that are not the learner's "
            f"classes {classes.tolist()}."
        )
    return X_val, encoding, np.searchsorted(classes, y_val).astype(np.int64)


def learner_view(learner, strategy_name: str) -> LearnerView:
    """The :class:`LearnerView` of ``learner`` (its own, with the round's context,
    when it offers one)."""
    if hasattr(learner, "strategy_view"):
        return learner.strategy_view(strategy_name=strategy_name)
    return LearnerView(learner, strategy_name=strategy_name)


class QueryCostWarning(UserWarning):
    """A query strategy set to do work that grows faster than the pool.

    Raised once per strategy instance, with the expected cost of a query and
    the parameter that bounds it.

    Examples
    --------
    >>> import warnings
    >>> from skfairal.query import QueryCostWarning
    >>> warnings.simplefilter("ignore", QueryCostWarning)  # silence it
    >>> issubclass(QueryCostWarning, UserWarning)
    True
    """


class BaseQueryStrategy(BaseEstimator):
    """Base class of skfairal's query strategies: validate once, then score.

    A strategy is called as ``strategy(learner, X_pool, n_instances=1, *,
    sensitive_features=None, random_state=None)`` and returns
    ``n_instances`` distinct row indices into ``X_pool``, best first. The
    public ``__call__`` does, for every strategy and in this order:

    1. checks the parameters (``_parameter_constraints``), that the learner
       is fitted, that ``X_pool`` is a non-empty set of rows, that
       ``n_instances`` is an integer in ``[1, n_pool]``, and that the pool's
       numbers are finite (NaN is accepted only when the base estimator says
       it takes missing values);
    2. validates and encodes ``sensitive_features`` of the pool (one label
       per row, by position: a Series' index or name is not used);
       ``requires_pool_groups = True`` makes them mandatory;
    3. resolves the seed **once**: the call's ``random_state`` or, when it
       is None, the strategy's own ``random_state`` parameter if it has one,
       becomes one :class:`numpy.random.RandomState`; every random draw of
       the call comes from it (sub-seeds are drawn from it, as scikit-learn's
       bagging does). A learner passes a seed derived from its own
       ``random_state`` and the round, so a repeated query of a round
       returns the same rows;
    4. calls ``self._query(view, X_pool, n_instances, groups, rng)``, the
       subclass's scoring and selection.

    **What a strategy may read of the learner**: only the
    :class:`LearnerView` ``view`` (the fitted estimator, probabilities, the
    labeled rows raw and in the base estimator's feature space, encoded
    labels, groups, postponed rows) and its :class:`QueryContext`
    (``view.context``: round, labels bought, the simulation's rounds and
    batch size). Features come from ``view.features(X_pool)``, never from the
    raw pool.

    **Hooks** a subclass may set or override:

    - ``keeps_run_state`` (class attribute, default False): the strategy
      keeps state across the rounds of one run (a bandit), so a learner
      works on a ``clone`` made at each fit;
    - ``requires_constrained_base`` (class attribute, default False): the
      strategy reads the constrained model
      (:meth:`LearnerView.constrained_predict_proba`), so the learner's base
      must be a fairlearn mitigator;
    - :meth:`usable_rows`: which newly labeled (and earlier postponed) rows
      the learner trains on now; the default uses every row. Trial and error
      (Falcon) postpones the others, kept in the learner's ``X_postponed_``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skfairal.query import BaseQueryStrategy
    >>> from skfairal.utils import select_top_k
    >>> class LargestFirstFeature(BaseQueryStrategy):
    ...     def _query(self, view, X_pool, n_instances, groups, rng):
    ...         scores = view.features(X_pool)[:, 0]
    ...         return select_top_k(scores, n_instances, random_state=rng)
    >>> clf = LogisticRegression().fit([[0.0], [1.0]], [0, 1])
    >>> LargestFirstFeature()(clf, np.array([[0.2], [3.0], [1.0]]), 2)
    array([1, 2])
    """

    keeps_run_state = False
    requires_constrained_base = False
    requires_pool_groups = False
    _parameter_constraints: dict = {}

    def __call__(
        self,
        learner,
        X_pool,
        n_instances: int = 1,
        *,
        sensitive_features=None,
        random_state=None,
    ) -> np.ndarray:
        """Query ``n_instances`` rows of ``X_pool``, best first.

        Parameters
        ----------
        learner : FairActiveClassifier or fitted classifier
            The learner, read through its :class:`LearnerView`.
        X_pool : array-like, sparse matrix or DataFrame of shape (n_pool, ...)
            Unlabeled rows in the format the learner takes.
        n_instances : int, default=1
            How many rows to return.
        sensitive_features : array-like of shape (n_pool,) or (n_pool, k)
            Group labels of the pool rows.
        random_state : int, RandomState instance or None, default=None
            Seed of the call; None falls back to the strategy's own
            ``random_state`` parameter, if it has one.

        Returns
        -------
        indices : ndarray of shape (n_instances,), dtype=intp
            Distinct row indices into ``X_pool``.
        """
        view, groups, rng = self._validate_call(
            learner, X_pool, n_instances, sensitive_features, random_state
        )
        return np.asarray(
            self._query(view, X_pool, n_instances, groups, rng), dtype=np.intp
        )

    def _validate_call(
        self, learner, X_pool, n_instances, sensitive_features, random_state
    ):
        """Steps 1-3 of ``__call__``: ``(view, groups, rng)``, or the error.

        Public methods that score the pool without picking rows (FAL's
        ``expected_unfairness``) validate through it too.
        """
        self._validate_params()
        n_pool = check_query_args(learner, X_pool, n_instances)
        view = learner_view(learner, type(self).__name__)
        view.check_rows(X_pool, name="X_pool")
        if sensitive_features is None:
            if self.requires_pool_groups:
                raise ValueError(
                    f"{type(self).__name__} needs sensitive_features for the pool "
                    "rows: pass one group label per row of X_pool."
                )
            groups = None
        else:
            groups = check_sensitive_features(sensitive_features, n_pool)
        if random_state is None:
            random_state = getattr(self, "random_state", None)
        return view, groups, check_random_state(random_state)

    def _query(self, view, X_pool, n_instances, groups, rng) -> np.ndarray:
        """Score and select (the subclass's worker).

        Parameters
        ----------
        view : LearnerView
        X_pool : validated rows
        n_instances : int
        groups : GroupEncoding or None
            The pool's groups.
        rng : numpy.random.RandomState
            The call's only source of randomness.
        """
        raise NotImplementedError

    def usable_rows(self, learner, y, *, sensitive_features, n_postponed: int):
        """Which waiting labeled rows to train on now (every one, by default).

        Parameters
        ----------
        learner : FairActiveClassifier
            The learner being taught.
        y : ndarray of shape (n_waiting,)
            Class codes of the waiting rows: the ``n_postponed`` postponed
            ones first, then the new ones.
        sensitive_features : array-like of shape (n_waiting,) or None
            Their groups.
        n_postponed : int
            How many of the waiting rows were postponed earlier.

        Returns
        -------
        usable : ndarray of shape (n_waiting,), dtype=bool
            True for the rows to add to the training set now.
        """
        return np.ones(len(y), dtype=bool)
