"""FairActiveClassifier: the active-learning meta-estimator."""

import time
from numbers import Integral, Real

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    MetaEstimatorMixin,
    _fit_context,
    clone,
)
from sklearn.linear_model import LogisticRegression
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _num_samples,
    check_consistent_length,
    check_is_fitted,
    validate_data,
)

from ..query import LearnerView, QueryContext, get_strategy
from ..query import feature_space as _feature_space
from ..utils import (
    indexable_rows,
    take_rows,
)
from ._constrained import (
    check_constrained,
    is_constrained,
)
from ._labeled_rows import LabeledRowsMixin, missing_mask
from ._prediction import PredictionMixin
from ._simulation import round_seed, simulate


class FairActiveClassifier(
    PredictionMixin,
    LabeledRowsMixin,
    ClassifierMixin,
    MetaEstimatorMixin,
    BaseEstimator,
):
    """Active learner: a classifier that chooses which rows to label next.

    Wraps any scikit-learn classifier (or a torch module, through skorch) and
    a query strategy. Use it interactively with :meth:`query` and
    :meth:`teach`, or let :meth:`fit` simulate a whole active-learning run
    (``budget > 0``), which makes strategies and budgets tunable with
    ``GridSearchCV``.

    Parameters
    ----------
    estimator : estimator, torch module or None, default=None
        The base classifier, cloned into ``estimator_`` and refit on all
        labeled rows after each batch. ``None`` means
        ``LogisticRegression(max_iter=1000)``. A ``torch.nn.Module`` class or
        instance, or a skorch ``NeuralNetClassifier``, is wrapped so it gets
        float32 features and int64 class codes. A *constrained* model, one
        whose ``fit`` takes ``sensitive_features`` (fairlearn's
        ``ExponentiatedGradient`` or ``ThresholdOptimizer``, alone or as a
        Pipeline's last step), is fitted with the labeled rows' groups at
        every refit; :meth:`predict`, :meth:`predict_proba` and :meth:`score`
        then give the constrained model's outputs (see
        ``unconstrained_estimator_`` for what strategies read).
    query_strategy : str or callable, default="entropy"
        A name from :func:`skfairal.query.available_strategies` or a callable
        ``strategy(learner, X_pool, n_instances, *, sensitive_features,
        random_state)``; strategies with parameters are estimators whose
        parameters are tunable as ``query_strategy__<param>``.
    budget : int, default=0
        Labels the simulation in :meth:`fit` may query; 0 fits on the labeled
        rows only. When the pool left after the seed set is smaller, the whole
        pool is labeled (``history_`` shows how many labels were bought).
    batch_size : int, default=1
        Rows labeled per round of the simulation; ``ceil(budget /
        batch_size)`` rounds, the last one smaller when ``batch_size`` does
        not divide ``budget``.
    initial_size : int or float, default=10
        Size of the simulation's random seed set: a count, or a fraction of
        the rows when a float in (0, 1); at most all rows. It holds at least
        one row of each class so that the first fit is possible. Ignored
        when ``initial_indices`` is given.
    initial_indices : array-like of int, callable or None, default=None
        The simulation's seed set, for a biased start: row indices (or a
        boolean mask) into the ``X`` given to :meth:`fit`, or a callable
        ``initial_indices(y, sensitive_features, rng)`` returning them (the
        form that works in cross-validation, where each fold has its own
        rows), ``rng`` a :class:`numpy.random.RandomState` derived from
        ``random_state``. The rows must hold every class. None draws
        ``initial_size`` rows at random.
    on_round : callable or None, default=None
        Called as ``on_round(learner, record)`` after the seed fit and after
        every round of the simulation, ``record`` being the round's
        ``history_`` entry; a benchmark scores the model there. Its return
        value is ignored.
    missing_label : float, int or str, default=np.nan
        The label marking an unlabeled row in ``y``; -1 as in scikit-learn's
        semi-supervised estimators works too.
    random_state : int, RandomState instance or None, default=None
        Resolved once at fit into ``seed_``, from which the seed set and
        each round's strategy seed are derived (see ``seed_``); for a torch
        base, it also seeds torch at each refit.
    verbose : int, default=0
        Above 0, the simulation shows a progress bar.
    n_jobs : int or None, default=None
        Parallel jobs (joblib) over the row chunks (at most 65,536 rows, see
        :func:`skfairal.utils.map_row_chunks`) in which :meth:`predict`,
        :meth:`predict_proba`, :meth:`base_features` and the other scoring
        methods run, and so every strategy's scoring of the pool; threads
        unless a ``joblib.parallel_config`` (dask, say) says otherwise.
        Results do not depend on ``n_jobs`` or the backend.

    Attributes
    ----------
    estimator_ : estimator
        The base estimator fitted on every labeled row, with the labels
        encoded as ``0 .. n_classes - 1``.
    unconstrained_estimator_ : estimator or None
        For a constrained base, its inner estimator (``estimator=`` of the
        fairlearn mitigator) fitted on the same rows without the constraint,
        behind the same fitted preprocessing for a Pipeline: the model whose
        probabilities, features and refits query strategies read (the
        constrained model's probabilities stay available to them as
        :meth:`~skfairal.query.LearnerView.constrained_predict_proba`).
        None for any other base.
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    X_labeled_, y_labeled_ : array-like
        The labeled rows and their labels.
    y_encoded_ : ndarray of shape (n_labeled,)
        ``y_labeled_`` as indices into ``classes_``.
    sensitive_features_labeled_ : ndarray or None
        Sensitive features of the labeled rows, when given: an array aligned
        with ``X_labeled_`` by position (1-D for one column, 2-D for several;
        a Series' index and name are not used).
    query_strategy_ : callable
        The strategy used by :meth:`query` and the simulation. A strategy
        that keeps the state of a run (``keeps_run_state``, Falcon) is a
        fresh copy (``clone``) of ``query_strategy`` made at fit, so that
        state belongs to this fit alone; any other is ``query_strategy``
        itself.
    seed_ : int
        Drawn from ``random_state`` at fit. The seed set comes from it, and
        the query of round ``r`` (``r = len(history_)``, 1 for the first
        query after fit) is passed a seed derived from ``(seed_, r)``, in a
        simulation and in an interactive loop alike: the same seed gives the
        same picks, and a repeated query of a round returns the same rows.
    X_postponed_, y_postponed_, sensitive_features_postponed_ : array-like
        Labeled rows the strategy holds back from training for now (Falcon's
        trial and error keeps rows whose revealed label is not the one it
        targeted, to use them once their subgroup becomes a target); empty
        for every other strategy.
    history_ : list of dict
        One entry per round: ``round``, ``n_labeled`` (rows in the training
        set), ``indices`` (rows of the ``X`` given to fit, or of the ``X``
        given to teach), ``groups`` (their sensitive features, or None),
        ``n_postponed`` and ``seconds`` (query and refit); rounds of the
        simulation also record ``query_seconds`` (the strategy alone). Round
        0 is the initial fit; labels bought are ``n_labeled + n_postponed``.
    n_features_in_ : int
        Number of features seen in :meth:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names seen in :meth:`fit`, when ``X`` has string column names.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skfairal import FairActiveClassifier
    >>> from skfairal.datasets import make_biased_classification
    >>> X, y, groups = make_biased_classification(500, random_state=0)
    >>> y_partial = np.where(np.arange(500) < 20, y, np.nan)  # 20 labels
    >>> learner = FairActiveClassifier(LogisticRegression(), "entropy")
    >>> learner = learner.fit(X, y_partial, sensitive_features=groups)
    >>> pool = np.arange(20, 500)
    >>> picks = learner.query(X[pool], n_instances=5, sensitive_features=groups[pool])
    >>> learner = learner.teach(
    ...     X[pool[picks]], y[pool[picks]], sensitive_features=groups[pool[picks]]
    ... )
    >>> len(learner.y_labeled_)
    25

    Simulated active learning, ready for GridSearchCV:

    >>> sim = FairActiveClassifier(budget=40, batch_size=10, random_state=0)
    >>> sim = sim.fit(X, y, sensitive_features=groups)
    >>> [h["n_labeled"] for h in sim.history_]
    [10, 20, 30, 40, 50]
    """

    # Requested by default: Pipeline and GridSearchCV route the groups here as
    # soon as metadata routing is enabled.
    __metadata_request__fit = {"sensitive_features": True}
    # A constrained base (ThresholdOptimizer) predicts from the groups too.
    __metadata_request__predict = {"sensitive_features": True}
    __metadata_request__predict_proba = {"sensitive_features": True}
    __metadata_request__score = {"sensitive_features": True}

    _parameter_constraints = {
        # A torch module (class or instance) has no fit: checked in _make_estimator.
        "estimator": "no_validation",
        # Names are checked against the registry, which later imports extend.
        "query_strategy": [str, callable],
        "budget": [Interval(Integral, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "initial_size": [
            Interval(Integral, 1, None, closed="left"),
            Interval(Real, 0, 1, closed="neither"),
        ],
        "initial_indices": ["array-like", callable, None],
        "on_round": [callable, None],
        "missing_label": "no_validation",
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        estimator=None,
        query_strategy="entropy",
        *,
        budget: int = 0,
        batch_size: int = 1,
        initial_size: int | float = 10,
        initial_indices=None,
        on_round=None,
        missing_label=np.nan,
        random_state=None,
        verbose: int = 0,
        n_jobs: int | None = None,
    ):
        self.estimator = estimator
        self.query_strategy = query_strategy
        self.budget = budget
        self.batch_size = batch_size
        self.initial_size = initial_size
        self.initial_indices = initial_indices
        self.on_round = on_round
        self.missing_label = missing_label
        self.random_state = random_state
        self.verbose = verbose
        self.n_jobs = n_jobs

    # -- construction ---------------------------------------------------------

    def _make_estimator(self, n_classes: int | None = None):
        from ..neural import is_torch_estimator

        if self.estimator is None:
            return LogisticRegression(max_iter=1000)
        if is_torch_estimator(self.estimator):
            from ..neural import wrap_torch_estimator

            return wrap_torch_estimator(
                self.estimator, n_classes=n_classes, random_state=self.random_state
            )
        if not (hasattr(self.estimator, "fit") and hasattr(self.estimator, "predict")):
            raise TypeError(
                f"estimator must be a classifier with fit and predict, or a torch "
                f"module; got {self.estimator!r}."
            )
        return clone(self.estimator)

    def _strategy(self):
        strategy = get_strategy(self.query_strategy)
        # A strategy that keeps the state of a run (Falcon's bandits) gets its
        # own copy per fit, so two learners, or two fits, never share it; a
        # fitted policy (PANDA) is used as given.
        if getattr(strategy, "keeps_run_state", False):
            return clone(strategy)
        return strategy

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, *, sensitive_features=None):
        """Fit on the labeled rows, or simulate active learning when ``budget > 0``.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
            All rows, labeled or not; anything the base estimator accepts.
        y : array-like of shape (n_samples,)
            Labels, ``missing_label`` for unlabeled rows. With ``budget > 0``
            every row must be labeled: the labels are the simulation's oracle.
        sensitive_features : array-like of shape (n_samples,) or (n_samples, k)
            Group labels, needed by fairness-aware strategies.

        Returns
        -------
        self : FairActiveClassifier
        """
        X = indexable_rows(X)
        validate_data(self, X, skip_check_array=True, reset=True)
        n_samples = _num_samples(X)
        if n_samples == 0:
            raise ValueError(
                f"Found array with 0 sample(s) (shape={np.shape(X)}) while a "
                "minimum of 1 is required."
            )
        y = self._check_y(y, n_samples)
        groups = self._check_groups(sensitive_features, n_samples)
        if self.estimator is not None and is_constrained(self.estimator):
            check_constrained(self.estimator)
            if groups is None:
                raise ValueError(
                    f"sensitive_features is required: the base estimator "
                    f"{type(self.estimator).__name__} is a constrained model, "
                    "fitted with the labeled rows' groups."
                )
        missing = missing_mask(y, self.missing_label)
        if missing.all():
            raise ValueError(
                f"y has no labeled row: every label is missing_label "
                f"({self.missing_label!r}); at least two classes must be labeled."
            )
        labeled = np.flatnonzero(~missing)
        y_known = y[labeled]
        if y_known.dtype.kind == "O" and not any(isinstance(v, str) for v in y_known):
            y_known = np.asarray(y_known.tolist())
        check_classification_targets(y_known)
        self.classes_ = np.unique(y_known)
        if len(self.classes_) < 2:
            raise ValueError(
                f"y has only one class ({self.classes_[0]!r}) among its labeled "
                "rows; a classifier needs at least two classes."
            )
        self.query_strategy_ = self._strategy()  # an unknown name fails early
        # The one seed of this fit: the seed set and every round's strategy
        # seed derive from it (round_seed).
        self.seed_ = int(check_random_state(self.random_state).randint(2**31 - 1))
        if self.budget > 0:
            if missing.any():
                raise ValueError(
                    f"budget={self.budget} simulates active learning, which needs "
                    f"every label as its oracle, but y has {missing.sum()} missing "
                    "labels; set budget=0 to fit on the labeled rows."
                )
            simulate(self, X, y_known, groups)
            return self
        start = time.perf_counter()
        state = self._fitted_on(
            take_rows(X, labeled),
            y_known,
            None if groups is None else groups[labeled],
        )
        self.__dict__.update(state | self._empty_postponed(X, y_known, groups))
        self.history_ = [self._record(0, labeled, groups, start)]
        return self

    def _record(self, round_, indices, groups, start) -> dict:
        return {
            "round": round_,
            "n_labeled": len(self.y_labeled_),
            "indices": np.asarray(indices),
            "groups": None if groups is None else groups[indices],
            "n_postponed": len(self.y_postponed_),
            "seconds": time.perf_counter() - start,
        }

    def _strategy_name(self) -> str:
        if isinstance(self.query_strategy, str):
            return self.query_strategy
        return getattr(
            self.query_strategy, "__name__", type(self.query_strategy).__name__
        )

    # -- what a strategy reads ----------------------------------------------------

    def base_features(self, X):
        """X in the base estimator's feature space, as its final step sees it.

        For a Pipeline base estimator, the rows transformed by every step but
        the last (the transform fitted on the labeled rows); for any other,
        X validated as numbers. Computed in the row chunks of
        :meth:`predict_proba` (see ``n_jobs``). Strategies that read
        features (FAL's fast refit, FACA-GEN, PANDA) get them here.

        Parameters
        ----------
        X : array-like, sparse matrix or DataFrame of shape (n_samples, n_features)

        Returns
        -------
        features : ndarray or sparse matrix of shape (n_samples, n_out)
        """
        X = self._check_predict_X(X)
        return _feature_space(
            self.estimator_,
            X,
            n_jobs=self.n_jobs,
            n_features=getattr(self, "n_features_in_", 1),
        )

    def strategy_view(self, *, strategy_name: str = "the query strategy"):
        """The read-only :class:`~skfairal.query.LearnerView` a strategy reads.

        Its ``context`` (:class:`~skfairal.query.QueryContext`) gives the
        round of the next query (``len(history_)``), the rows labeled and
        postponed, and, during :meth:`fit`'s simulation, its number of rounds
        and batch size.

        Parameters
        ----------
        strategy_name : str, default="the query strategy"
            Named in the view's errors.

        Returns
        -------
        view : LearnerView
        """
        check_is_fitted(self)
        plan = getattr(self, "_plan", None) or {}
        context = QueryContext(
            round=len(self.history_),
            n_labeled=len(self.y_labeled_),
            n_postponed=len(self.y_postponed_),
            verbose=self.verbose,
            **plan,
        )
        return LearnerView(self, context, strategy_name=strategy_name)

    def _run_strategy(self, X_pool, n_instances, groups, *, plan=None):
        """Call the strategy with this round's seed; check what it returns."""
        self._plan = plan
        try:
            picks = self.query_strategy_(
                self,
                X_pool,
                n_instances,
                sensitive_features=groups,
                random_state=round_seed(self.seed_, len(self.history_)),
            )
        finally:
            del self._plan
        picks = np.asarray(picks)
        n_pool = _num_samples(X_pool)
        if (
            picks.ndim != 1
            or picks.dtype.kind not in "iu"
            or len(picks) != n_instances
            or len(np.unique(picks)) != len(picks)
            or (len(picks) and (picks.min() < 0 or picks.max() >= n_pool))
        ):
            raise RuntimeError(
                f"query strategy {self._strategy_name()!r} returned {picks!r}; it must "
                f"return {n_instances} distinct integer row indices into the pool "
                f"of {n_pool} rows."
            )
        return picks.astype(np.intp, copy=False)

    # -- the active-learning loop ----------------------------------------------

    def query(self, X_pool, n_instances: int = 1, *, sensitive_features=None):
        """Choose the pool rows to label next.

        The strategy is passed a seed derived from ``seed_`` and the round
        (``len(history_)``): querying again before :meth:`teach` returns the
        same rows.

        Parameters
        ----------
        X_pool : array-like or sparse matrix of shape (n_pool, n_features)
            Unlabeled rows.
        n_instances : int, default=1
            How many rows to choose, at most ``n_pool``.
        sensitive_features : array-like of shape (n_pool,) or (n_pool, k)
            Group labels of the pool rows, for fairness-aware strategies.

        Returns
        -------
        indices : ndarray of shape (n_instances,), dtype=intp
            Distinct row indices into ``X_pool``, best first.
        """
        check_is_fitted(self)
        if X_pool is None:
            raise ValueError("X_pool is None: pass the unlabeled rows to choose from.")
        X_pool = indexable_rows(X_pool)
        validate_data(self, X_pool, skip_check_array=True, reset=False)
        n_pool = _num_samples(X_pool)
        groups = self._check_groups(sensitive_features, n_pool)
        return self._run_strategy(X_pool, n_instances, groups)

    def teach(self, X, y, *, sensitive_features=None):
        """Add labeled rows and refit; on any error the learner is unchanged.

        A strategy may postpone some of the rows (see ``X_postponed_``): they
        are kept, not used for training until the strategy releases them.
        Every row is validated before anything is stored, postponed or not.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_new, n_features)
            The newly labeled rows.
        y : array-like of shape (n_new,)
            Their labels, all among ``classes_``.
        sensitive_features : array-like of shape (n_new,) or (n_new, k)
            Their group labels; required when fit was given sensitive features.

        Returns
        -------
        self : FairActiveClassifier
        """
        check_is_fitted(self)
        start = time.perf_counter()
        if X is None:
            raise ValueError("X is None: teach needs the newly labeled rows.")
        X = indexable_rows(X)
        validate_data(self, X, skip_check_array=True, reset=False)
        n_new = _num_samples(X)
        if n_new == 0:
            raise ValueError("X is empty: teach needs at least one labeled row.")
        y = self._check_y(y, n_new)
        if missing_mask(y, self.missing_label).any():
            raise ValueError(
                "y contains missing labels; teach needs the label of every row it "
                "is given."
            )
        if y.dtype.kind == "O" and not any(isinstance(v, str) for v in y):
            y = np.asarray(y.tolist())
        had_groups = self.sensitive_features_labeled_ is not None
        if had_groups and sensitive_features is None:
            raise ValueError(
                "sensitive_features is required: the learner was fitted with the "
                "groups of its labeled rows and must know those of new rows too."
            )
        if not had_groups and sensitive_features is not None:
            raise ValueError(
                "sensitive_features were given to teach but not to fit; pass them "
                "to both or to neither."
            )
        groups = self._check_groups(sensitive_features, n_new)
        check_consistent_length(X, y)
        # Postponed rows too: a row released into training later would
        # break every refit after it.
        LearnerView(self).check_rows(X, name="X")
        state = self._absorbed(X, y, groups)
        # Only now, with everything computed, is the learner changed.
        self.__dict__.update(state)
        self.history_ = [
            *self.history_,
            self._record(len(self.history_), np.arange(n_new), groups, start),
        ]
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        from sklearn.utils import get_tags

        # The fitted estimator when there is one: validation asks for the tags
        # at every predict, and building a clone each time cost 2 ms a round.
        fitted = hasattr(self, "estimator_")
        base = get_tags(self.estimator_ if fitted else self._make_estimator())
        tags.input_tags.sparse = base.input_tags.sparse
        tags.input_tags.allow_nan = base.input_tags.allow_nan
        tags.input_tags.string = base.input_tags.string
        tags.input_tags.categorical = base.input_tags.categorical
        return tags
