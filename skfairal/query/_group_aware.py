"""Group-aware random sampling: label more of the group the model fails most."""

import numpy as np

from ._min_max import MinMaxSampling


class GroupAwareRandomSampling(MinMaxSampling):
    """Random sampling within the group on which the current model errs most.

    The group-aware baseline of Sharaf et al. (2022, §4.1). Each query
    estimates every group's error rate, then draws rows uniformly at random
    from the pool's worst group; when that group has fewer pool rows than
    requested, the next-worst group fills the batch, and so on. Groups with
    equal error rates are drawn from together.

    It *is* :class:`MinMaxSampling` with ``loss="zero_one"``, ``p=0`` and no
    ``fairness_set``: those settings are fixed (class attributes, not
    parameters), and only ``cv`` is tunable. For the same seed it picks
    what ``MinMaxSampling(p=0, loss="zero_one", cv=cv)`` picks.

    **How "worst" is estimated without the pool's labels.** The pool's labels
    are unknown, so the error is estimated on the *labeled* rows only: a
    clone of the learner's base estimator is refit by stratified ``cv``-fold
    cross-validation and each labeled row gets an out-of-fold prediction
    (in-sample errors would flatter small groups the model has memorised). A
    group that appears in the pool but has no labeled row yet counts as worst
    of all: nothing is known about it. When some class has fewer than two
    labeled rows, cross-validation is impossible and the in-sample errors of
    the fitted model are used instead. :meth:`MinMaxSampling.group_losses` returns the
    estimated error rates.

    Parameters
    ----------
    cv : int, default=3
        Number of cross-validation folds (at most the size of the smallest
        labeled class).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skfairal import FairActiveClassifier
    >>> from skfairal.datasets import make_biased_classification
    >>> from skfairal.query import GroupAwareRandomSampling
    >>> X, y, groups = make_biased_classification(300, random_state=0)
    >>> learner = FairActiveClassifier(LogisticRegression())
    >>> learner = learner.fit(X[:60], y[:60], sensitive_features=groups[:60])
    >>> strategy = GroupAwareRandomSampling(cv=3)
    >>> picks = strategy(
    ...     learner, X[60:], 5, sensitive_features=groups[60:], random_state=0
    ... )
    >>> len(np.unique(groups[60:][picks]))  # all from one group
    1
    >>> strategy
    GroupAwareRandomSampling()
    """

    # MinMaxSampling's settings that make it this baseline. As class
    # attributes they are read like parameters but are not ones: get_params,
    # clone and set_params see cv alone.
    p = 0.0
    loss = "zero_one"
    fairness_set = None
    random_state = None

    _parameter_constraints = {"cv": MinMaxSampling._parameter_constraints["cv"]}
    _labeled_groups_alternative = ""

    def __init__(self, cv: int = 3):
        self.cv = cv


def group_aware_random_sampling(
    learner, X_pool, n_instances: int = 1, *, sensitive_features=None, random_state=None
) -> np.ndarray:
    """:class:`GroupAwareRandomSampling` with its default parameters.

    Parameters
    ----------
    learner : FairActiveClassifier
        Fitted, with the sensitive features of its labeled rows.
    X_pool : array-like of shape (n_pool, n_features)
        Unlabeled rows to choose from.
    n_instances : int, default=1
        How many rows to return.
    sensitive_features : array-like of shape (n_pool,) or (n_pool, n_columns)
        Group labels of the pool rows (required).
    random_state : int, RandomState instance or None, default=None
        Seed of the draw within a group.

    Returns
    -------
    indices : ndarray of shape (n_instances,)
        Row indices into ``X_pool``.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skfairal import FairActiveClassifier
    >>> from skfairal.datasets import make_biased_classification
    >>> from skfairal.query import group_aware_random_sampling
    >>> X, y, g = make_biased_classification(200, random_state=1)
    >>> learner = FairActiveClassifier(LogisticRegression())
    >>> learner = learner.fit(X[:50], y[:50], sensitive_features=g[:50])
    >>> group_aware_random_sampling(
    ...     learner, X[50:], 3, sensitive_features=g[50:], random_state=0
    ... ).shape
    (3,)
    """
    return GroupAwareRandomSampling()(
        learner,
        X_pool,
        n_instances,
        sensitive_features=sensitive_features,
        random_state=random_state,
    )
