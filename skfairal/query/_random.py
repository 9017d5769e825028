"""Uniform random sampling, the baseline every strategy must beat."""

import numpy as np
from sklearn.utils.validation import _num_samples

from ..utils import select_top_k
from ._base import BaseQueryStrategy


class RandomSampling(BaseQueryStrategy):
    """Query rows uniformly at random, without replacement.

    Every row gets the same utility, so the shared top-k's seeded
    tie-breaking is exactly a uniform draw. The pool is validated like every
    strategy's (a NaN or infinite row is an error), though nothing is scored.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skfairal.query import RandomSampling
    >>> clf = LogisticRegression().fit([[0.0], [1.0]], [0, 1])
    >>> picks = RandomSampling()(clf, np.zeros((10, 1)), 3, random_state=0)
    >>> len(set(picks.tolist()))
    3
    """

    def _query(self, view, X_pool, n_instances, groups, rng):
        return select_top_k(
            np.zeros(_num_samples(X_pool)), n_instances, random_state=rng
        )


def random_sampling(
    learner, X_pool, n_instances: int = 1, *, sensitive_features=None, random_state=None
) -> np.ndarray:
    """Query rows uniformly at random, without replacement (:class:`RandomSampling`).

    Parameters
    ----------
    learner : fitted classifier
        Only checked to be fitted, so random sampling fails where the others do.
    X_pool : array-like of shape (n_pool, n_features)
        Unlabeled rows to choose from.
    n_instances : int, default=1
        How many rows to return.
    sensitive_features : array-like, default=None
        Checked for length when given, otherwise unused.
    random_state : int, RandomState instance or None, default=None
        Seed of the draw.

    Returns
    -------
    indices : ndarray of shape (n_instances,)
        Distinct row indices into ``X_pool``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skfairal.query import random_sampling
    >>> clf = LogisticRegression().fit([[0.0], [1.0]], [0, 1])
    >>> picks = random_sampling(clf, np.zeros((10, 1)), n_instances=3, random_state=0)
    >>> len(set(picks.tolist())), bool(picks.max() < 10)
    (3, True)
    """
    return RandomSampling()(
        learner,
        X_pool,
        n_instances,
        sensitive_features=sensitive_features,
        random_state=random_state,
    )
