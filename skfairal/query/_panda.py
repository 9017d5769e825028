"""PANDA as a query strategy: a meta-learned policy on the learner's features."""

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.validation import check_is_fitted

from ._base import BaseQueryStrategy


def _is_fitted(policy) -> bool:
    if policy is None:
        return False
    try:
        check_is_fitted(policy)
    except (NotFittedError, TypeError):
        return False
    return True


def _inner_params_of(estimator, policy) -> dict:
    """The implicit inner classifier's parameters that match ``estimator``.

    An L2 ``LogisticRegression`` base gives its ``C``, ``fit_intercept`` and
    ``class_weight``; any other base (an L1 or unpenalised one included),
    nothing: the policy keeps its own, the logistic surrogate.
    """
    if policy.get_params().get("inner") != "implicit":
        return {}
    if not isinstance(estimator, LogisticRegression):
        return {}
    params = estimator.get_params()
    l2 = params.get("l1_ratio") in (0, None) and params.get("penalty") in (
        "l2",
        "deprecated",
    )
    if not l2 or not np.isfinite(params["C"]):
        return {}
    return {
        "C": params["C"],
        "fit_intercept": params["fit_intercept"],
        "class_weight": params["class_weight"],
    }


class PANDASampling(BaseQueryStrategy):
    """Query with PANDA's meta-learned selection policy (Sharaf et al. 2022).

    The query-strategy face of :class:`~skfairal.policies.PANDAPolicy`: the
    policy scores the pool **in the base estimator's feature space** (for a
    Pipeline, the pool transformed by every step but the last; see
    :meth:`LearnerView.features`) and draws the rows by Gumbel-top-``n``
    sampling, in one forward pass, without the pool's sensitive features.

    With an unfitted ``policy`` (or None: ``PANDAPolicy()`` with its
    defaults), the first query meta-trains a clone of it on the learner's
    labeled rows in that feature space, their encoded labels and their
    groups (``sensitive_features`` given to the learner's ``fit``), and keeps
    it as ``policy_`` for the later queries of the run. When the base
    estimator (a Pipeline's last step) is an L2 ``LogisticRegression``, the
    policy's implicit inner classifier takes its ``C``, ``fit_intercept``
    and ``class_weight``, so the policy is trained for the model the learner
    fits; any other base leaves the policy's own (the logistic surrogate).
    A :class:`~skfairal.FairActiveClassifier` clones the strategy at each fit
    (``keeps_run_state``), so each fit trains its own policy. Its parameters
    are tunable as ``query_strategy__policy__<param>`` (``threshold``,
    ``budget``, ...). Meta-training needs at least 20 labeled rows with two
    groups and binary labels; on a small seed set it learns little, so fit
    the policy on a larger labeled set first when there is one. If the
    feature space changes width between queries (a ``OneHotEncoder`` refitted
    on more labeled rows meets a new category), the policy is meta-trained
    again on the labeled rows; fixing the encoder's ``categories`` keeps one
    policy per run.

    A fitted ``policy`` is used as given, and shared by the clones of the
    strategy; it must have been fitted on features of the same space (for a
    Pipeline, ``learner.base_features(X)``).

    Parameters
    ----------
    policy : PANDAPolicy or None, default=None
        The policy: fitted, used as is; unfitted, cloned and meta-trained at
        the first query; None means ``PANDAPolicy()``.
    random_state : int, RandomState instance or None, default=None
        Seed of a call that is given none (a learner always gives one). The
        seed of the meta-training (unless ``policy`` has a ``random_state``
        of its own) and that of the selection are drawn from the call's
        generator.

    Attributes
    ----------
    policy_ : PANDAPolicy
        The fitted policy of the run: ``policy`` itself when it was given
        fitted, else the one meta-trained at the first query (or again when
        the feature space changed width).

    See Also
    --------
    skfairal.policies.PANDAPolicy : The policy, its training and selection.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skfairal import FairActiveClassifier
    >>> from skfairal.datasets import make_biased_classification
    >>> from skfairal.policies import PANDAPolicy
    >>> from skfairal.query import PANDASampling
    >>> X, y, groups = make_biased_classification(400, random_state=0)
    >>> policy = PANDAPolicy(budget=10, n_meta_iter=5, pretrain_epochs=2)
    >>> learner = FairActiveClassifier(
    ...     LogisticRegression(), PANDASampling(policy), random_state=0
    ... )
    >>> learner = learner.fit(X[:100], y[:100], sensitive_features=groups[:100])
    >>> picks = learner.query(X[100:], n_instances=10)  # no groups of the pool
    >>> len(set(picks.tolist())), learner.query_strategy_.policy_.n_features_in_
    (10, 5)
    """

    keeps_run_state = True
    _parameter_constraints: dict = {
        "policy": [HasMethods(["fit", "select"]), None],
        "random_state": ["random_state"],
    }

    def __init__(self, policy=None, *, random_state=None):
        self.policy = policy
        self.random_state = random_state

    def __sklearn_clone__(self):
        # A fitted policy is the user's trained artefact: every clone shares
        # it (selecting never changes it), where clone would throw its
        # training away -- and a learner clones its strategy at every fit.
        params = {
            name: value
            if name == "policy" and _is_fitted(value)
            else clone(value, safe=False)
            for name, value in self.get_params(deep=False).items()
        }
        return type(self)(**params)

    def _query(self, view, X_pool, n_instances, groups, rng):
        # Both seeds are drawn at every call, so that a repeated query, whose
        # policy is trained by then, selects with the same seed as the first.
        fit_seed, select_seed = (int(s) for s in rng.randint(2**31 - 1, size=2))
        features = view.features(X_pool)
        policy = self._trained_policy(view, features.shape[1], fit_seed)
        return policy.select(features, n_instances, random_state=select_seed)

    def _trained_policy(self, view, n_features: int, seed: int):
        trained = getattr(self, "policy_", None)
        if trained is not None and trained.n_features_in_ == n_features:
            return trained
        if _is_fitted(self.policy):
            if self.policy.n_features_in_ != n_features:
                raise ValueError(
                    f"the fitted policy takes {self.policy.n_features_in_} "
                    f"features, but the learner's feature space has {n_features}: "
                    "fit the policy on rows in the base estimator's feature space "
                    "(learner.base_features(X) for a Pipeline)."
                )
            self.policy_ = self.policy
            return self.policy_
        from ..policies import PANDAPolicy

        policy = PANDAPolicy() if self.policy is None else clone(self.policy)
        if policy.get_params()["random_state"] is None:
            policy.set_params(random_state=seed)
        policy.set_params(**_inner_params_of(view.final_estimator, policy))
        labeled_groups = view.require_labeled_groups("to meta-train PANDA's policy")
        y = view.y_encoded
        try:
            policy.fit(
                view.labeled_features, y, sensitive_features=labeled_groups.codes
            )
        except ValueError as exc:
            raise ValueError(
                f"{view.strategy_name} meta-trains its policy on the learner's "
                f"{len(y)} labeled rows (with {len(np.unique(y))} classes and "
                f"{labeled_groups.n_groups} groups) and could not: {exc} Label "
                "more rows before the first query, or pass a fitted policy."
            ) from exc
        self.policy_ = policy
        return policy
