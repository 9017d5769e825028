"""Use skfairal's query strategies as modAL query strategies.

modAL-python is not a dependency of skfairal: its latest release pins an old
skorch and its ``fit``/``teach`` fail on scikit-learn >= 1.8. Nothing here
imports it; :func:`to_modal` only speaks modAL's calling convention.
"""

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import NotFittedError
from sklearn.utils import _safe_indexing, column_or_1d
from sklearn.utils.validation import _num_samples, check_is_fitted

from ._registry import get_strategy

_LABELED_GROUPS_HINT = (
    "modAL does not know the groups of its training rows: pass them at every "
    "query, learner.query(X_pool, n_instances=..., sensitive_features=pool_groups, "
    "labeled_sensitive_features=training_groups), one label per row of "
    "learner.X_training."
)


def _is_fitted(estimator) -> bool:
    try:
        check_is_fitted(estimator)
    except NotFittedError:
        return False
    return True


class _ModALView(ClassifierMixin, BaseEstimator):
    """A modAL learner seen as the fitted learner skfairal strategies expect.

    skfairal strategies call ``check_is_fitted(learner)`` and read fitted
    attributes (``classes_``, and for strategies that retrain ``estimator_``,
    ``X_labeled_``, ``y_labeled_``, ``y_encoded_``,
    ``sensitive_features_labeled_``); modAL's learners have none of them. This
    read-only view derives them from the modAL learner at every access.
    """

    def __init__(self, learner, labeled_sensitive_features=None):
        self.learner = learner
        self.labeled_sensitive_features = labeled_sensitive_features

    def _estimators(self) -> list:
        learner = self.learner
        if hasattr(learner, "estimator"):
            return [learner.estimator]
        return [member.estimator for member in learner.learner_list]

    def __sklearn_is_fitted__(self) -> bool:
        return all(_is_fitted(estimator) for estimator in self._estimators())

    def fit(self, X, y=None, **fit_params):
        raise TypeError(
            "a query strategy must not refit the modAL learner; train it with "
            "modAL's own methods."
        )

    def predict_proba(self, X):
        return self.learner.predict_proba(X)

    def predict(self, X):
        return self.learner.predict(X)

    @property
    def classes_(self):
        classes = getattr(self.learner, "classes_", None)  # a modAL Committee
        if classes is None:
            classes = self.estimator_.classes_
        return np.asarray(classes)

    @property
    def estimator_(self):
        if not hasattr(self.learner, "estimator"):
            raise AttributeError(
                f"the modAL {type(self.learner).__name__} has no single estimator "
                "for a strategy to retrain; use a modAL ActiveLearner."
            )
        return self.learner.estimator

    def _training(self, name):
        value = getattr(self.learner, name, None)
        if value is None:
            raise AttributeError(
                f"the modAL learner holds no training rows ({name} is None): give "
                "ActiveLearner X_training and y_training so that a strategy can "
                "use the labeled rows."
            )
        return value

    @property
    def X_labeled_(self):
        return self._training("X_training")

    @property
    def y_labeled_(self):
        return column_or_1d(np.asarray(self._training("y_training")))

    @property
    def y_encoded_(self):
        index = {label: code for code, label in enumerate(self.classes_.tolist())}
        try:
            return np.array([index[label] for label in self.y_labeled_.tolist()])
        except KeyError as exc:
            raise ValueError(
                f"y_training holds the label {exc.args[0]!r}, which is not among the "
                f"estimator's classes_ {self.classes_.tolist()}."
            ) from None

    @property
    def sensitive_features_labeled_(self):
        self.labeled_groups_requested_ = True
        return self.labeled_sensitive_features


class _ModALStrategy:
    """The callable returned by :func:`to_modal` (picklable, unlike a closure)."""

    def __init__(self, strategy, random_state):
        self.strategy = strategy
        self.random_state = random_state

    def _call_seed(self, learner):
        """An int seed gives each labeled set its own seed (modAL has no rounds).

        Seeded by the seed and the number of training rows, so a seeded
        stateful strategy (Falcon) draws anew after every ``teach`` and the
        same again for a repeated query; a RandomState or None is passed on.
        """
        if not isinstance(self.random_state, Integral):
            return self.random_state
        n_training = getattr(learner, "X_training", None)
        n_training = 0 if n_training is None else _num_samples(n_training)
        return int(
            np.random.RandomState([self.random_state, n_training]).randint(2**31 - 1)
        )

    def __repr__(self) -> str:
        name = getattr(self.strategy, "__name__", None) or repr(self.strategy)
        return f"to_modal({name}, random_state={self.random_state!r})"

    def __call__(
        self,
        learner,
        X_pool,
        n_instances: int = 1,
        *,
        sensitive_features=None,
        labeled_sensitive_features=None,
    ):
        if not (hasattr(learner, "estimator") or hasattr(learner, "learner_list")):
            raise TypeError(
                "a to_modal strategy is called by a modAL learner (an object with "
                f".estimator or .learner_list), got {type(learner).__name__}; call "
                "skfairal strategies directly on scikit-learn estimators."
            )
        if labeled_sensitive_features is not None:
            X_training = getattr(learner, "X_training", None)
            if X_training is None:
                raise ValueError(
                    "labeled_sensitive_features was given but the modAL learner "
                    "holds no training rows (X_training is None)."
                )
            n_groups, n_training = (
                _num_samples(labeled_sensitive_features),
                _num_samples(X_training),
            )
            if n_groups != n_training:
                raise ValueError(
                    f"labeled_sensitive_features has {n_groups} rows but the modAL "
                    f"learner's X_training has {n_training}; it needs one group "
                    "label per training row."
                )
        view = _ModALView(learner, labeled_sensitive_features)
        try:
            indices = self.strategy(
                view,
                X_pool,
                n_instances,
                sensitive_features=sensitive_features,
                random_state=self._call_seed(learner),
            )
        except ValueError as exc:
            if labeled_sensitive_features is None and getattr(
                view, "labeled_groups_requested_", False
            ):
                exc.add_note(_LABELED_GROUPS_HINT)
            raise
        indices = np.asarray(indices)
        if indices.ndim != 1 or indices.dtype.kind not in "iu":
            raise ValueError(
                f"the strategy {self!r} returned {indices!r}; a query strategy must "
                "return a 1-D array of integer row indices."
            )
        return indices, _safe_indexing(X_pool, indices)


def to_modal(strategy, *, random_state=None):
    """Turn a skfairal query strategy into a modAL query strategy.

    The result can be passed as ``query_strategy`` to modAL's
    ``ActiveLearner`` (or ``Committee``). modAL calls it as
    ``query_strategy(learner, X_pool, *args, **kwargs)`` with the arguments
    of ``learner.query(X_pool, *args, **kwargs)``; it hands the skfairal
    strategy a read-only view of the modAL learner with the fitted attributes
    skfairal strategies read (``classes_``, ``predict_proba``, ...), and
    returns ``(indices, instances)``, the pair modAL's ``query`` unpacks.

    modAL knows nothing of sensitive groups. Pass the pool's groups to
    ``learner.query(..., sensitive_features=...)``; a group-aware strategy
    also needs the groups of the learner's training rows, one per row of
    ``learner.X_training``, passed at every query as
    ``labeled_sensitive_features=...`` (without them it raises a
    ``ValueError`` that says so). Group-aware strategies that retrain need an
    ``ActiveLearner`` created with ``X_training`` and ``y_training``.

    Parameters
    ----------
    strategy : str or callable
        A registered strategy name (see
        :func:`~skfairal.query.available_strategies`), a strategy function or
        a strategy instance such as ``GroupAwareRandomSampling(cv=5)``.
    random_state : int, RandomState instance or None, default=None
        Seeds the strategy. An int gives each query a seed derived from it
        and the number of the learner's training rows: the same draw for a
        repeated query of the same labeled set, a new one after ``teach``. A
        ``RandomState`` instance is passed on and advanced from query to
        query.

    Returns
    -------
    modal_strategy : callable
        ``modal_strategy(learner, X_pool, n_instances=1, *,
        sensitive_features=None, labeled_sensitive_features=None)``
        returning ``(indices, instances)``: an int array of row indices into
        ``X_pool``, best first, and those rows of ``X_pool`` (a list, array,
        sparse matrix or DataFrame like ``X_pool``). Picklable when
        ``strategy`` is.

    Raises
    ------
    NotFittedError
        At query time, when the modAL learner's estimator is not fitted.

    Notes
    -----
    modAL 0.4 calls a strategy a second time when its result does not unpack
    into two values or when it raises (a bare ``except``), so an error from a
    strategy is raised by its second run. The pair returned here always
    unpacks, so a successful query runs the strategy once. modAL 0.4 reads
    the second value as "query metrics": ``learner.query(...,
    return_metrics=True)`` returns the instances again in that place, since
    skfairal strategies do not return their utilities.

    With modAL 0.4.2.1 on scikit-learn >= 1.8, ``ActiveLearner.fit`` and
    ``teach`` fail (they pass ``force_all_finite`` to ``check_X_y``); an
    ``ActiveLearner`` created with ``X_training`` and ``y_training``, or
    around an estimator fitted beforehand, can still ``query``.

    Typical use, with modAL installed::

        from modAL.models import ActiveLearner

        learner = ActiveLearner(
            estimator=LogisticRegression(),
            query_strategy=to_modal("entropy", random_state=0),
            X_training=X_seed,
            y_training=y_seed,
        )
        indices, instances = learner.query(X_pool, n_instances=10)

    Examples
    --------
    A stand-in for a modAL learner: modAL's learners hold the scikit-learn
    model in ``estimator`` and delegate ``predict_proba`` to it.

    >>> from types import SimpleNamespace
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skfairal.query import to_modal
    >>> X = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    >>> clf = LogisticRegression().fit(X, [0, 0, 1, 1])
    >>> learner = SimpleNamespace(estimator=clf, predict_proba=clf.predict_proba)
    >>> strategy = to_modal("entropy")
    >>> strategy
    to_modal(entropy_sampling, random_state=None)
    >>> indices, instances = strategy(
    ...     learner, np.array([[-3.0], [0.1], [3.0], [-0.2]]), n_instances=2
    ... )
    >>> indices
    array([1, 3])
    >>> instances
    array([[ 0.1],
           [-0.2]])
    """
    return _ModALStrategy(get_strategy(strategy), random_state)
