"""Group-aware random sampling: label more of the group the model fails most."""

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.utils._param_validation import Interval

from ..utils import check_sensitive_features, select_top_k
from ..utils._rows import concat_rows
from ._base import check_query_args


def _concat_groups(labeled, pool):
    """Stack the labeled rows' and the pool's sensitive features, one encoding."""
    if hasattr(labeled, "iloc") or hasattr(pool, "iloc"):
        from ..utils import import_optional

        pd = import_optional("pandas", purpose="DataFrame sensitive_features")
        return pd.concat(
            [pd.DataFrame(labeled), pd.DataFrame(pool)], ignore_index=True
        ).to_numpy()
    labeled, pool = np.asarray(labeled), np.asarray(pool)
    if labeled.ndim != pool.ndim:
        raise ValueError(
            "sensitive_features of the pool and of the labeled rows have different "
            f"numbers of columns ({pool.ndim}-D vs {labeled.ndim}-D)."
        )
    # concat_rows keeps numbers next to strings as objects (numpy would turn
    # them into strings) and numeric groups numeric, which encode 50x faster.
    return concat_rows(labeled, pool)


def out_of_fold_losses(learner, cv: int, loss: str) -> np.ndarray:
    """Each labeled row's loss under a model that did not see it.

    A clone of the learner's base estimator is refit by stratified
    ``cv``-fold cross-validation (in-sample losses would flatter small groups
    the model has memorised); with fewer than two rows in some class the
    fitted model's in-sample losses are used instead. ``loss`` is
    ``"zero_one"`` (misclassified or not) or ``"log_loss"`` (clipped at
    ``1e-15``, as :func:`sklearn.metrics.log_loss`).
    """
    y = np.asarray(learner.y_encoded_)
    _, class_counts = np.unique(y, return_counts=True)
    n_splits = min(cv, int(class_counts.min()))
    method = "predict" if loss == "zero_one" else "predict_proba"
    if n_splits < 2:
        out = getattr(learner.estimator_, method)(learner.X_labeled_)
    else:
        out = cross_val_predict(
            clone(learner.estimator_),
            learner.X_labeled_,
            y,
            cv=StratifiedKFold(n_splits=n_splits),
            method=method,
        )
    return row_losses(out, y, loss)


def row_losses(output, y_codes, loss: str) -> np.ndarray:
    """Per-row zero-one loss of predicted codes, or log loss of probabilities."""
    if loss == "zero_one":
        return (np.asarray(output) != y_codes).astype(np.float64)
    proba = np.clip(np.asarray(output, dtype=np.float64), 1e-15, 1.0)
    return -np.log(proba[np.arange(len(y_codes)), y_codes])


def group_losses_and_pool_codes(losses, scored_groups, pool_groups):
    """Mean of ``losses`` per group, and each pool row's index into it.

    The scored rows' and the pool's groups share one encoding, so a group
    seen only in the pool gets ``inf``: nothing is known about it.
    """
    combined = _concat_groups(scored_groups, pool_groups)
    encoding = check_sensitive_features(combined, name="sensitive_features")
    n_scored = len(losses)
    codes, n_groups = encoding.codes[:n_scored], encoding.n_groups
    counts = np.bincount(codes, minlength=n_groups)
    sums = np.bincount(codes, weights=losses, minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(counts > 0, sums / np.maximum(counts, 1), np.inf)
    return means, encoding.codes[n_scored:]


class GroupAwareRandomSampling(BaseEstimator):
    """Random sampling within the group on which the current model does worst.

    The group-aware baseline of Sharaf et al. (2022, §4.1). Each query
    estimates every group's error rate, then draws rows at random from the
    pool's worst group; when that group has fewer pool rows than requested,
    the next-worst group fills the batch, and so on.

    **How "worst" is estimated without the pool's labels.** The pool's labels
    are unknown, so the error is estimated on the *labeled* rows only: a
    clone of the learner's base estimator is refit by stratified ``cv``-fold
    cross-validation and each labeled row gets an out-of-fold prediction
    (in-sample errors would flatter small groups the model has memorised). A
    group that appears in the pool but has no labeled row yet counts as worst
    of all: nothing is known about it. When some class has fewer than two
    labeled rows, cross-validation is impossible and the in-sample errors of
    the fitted model are used instead.

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
    """

    _parameter_constraints = {"cv": [Interval(Integral, 2, None, closed="left")]}

    def __init__(self, cv: int = 3):
        self.cv = cv

    def group_errors(self, learner, *, pool_sensitive_features):
        """Estimated error rate of every group, and each pool row's group.

        Returns
        -------
        errors : ndarray of shape (n_groups,)
            Estimated error rate per group; ``inf`` for a group with no
            labeled row.
        pool_codes : ndarray of shape (n_pool,)
            Index into ``errors`` of each pool row's group.
        """
        self._validate_params()
        labeled_groups = getattr(learner, "sensitive_features_labeled_", None)
        if labeled_groups is None:
            raise ValueError(
                "group-aware sampling needs the sensitive features of the labeled "
                "rows: pass sensitive_features to the learner's fit and teach."
            )
        if pool_sensitive_features is None:
            raise ValueError(
                "group-aware sampling needs sensitive_features for the pool rows."
            )
        losses = out_of_fold_losses(learner, self.cv, "zero_one")
        return group_losses_and_pool_codes(
            losses, labeled_groups, pool_sensitive_features
        )

    def __call__(
        self,
        learner,
        X_pool,
        n_instances: int = 1,
        *,
        sensitive_features=None,
        random_state=None,
    ) -> np.ndarray:
        """Query ``n_instances`` rows of ``X_pool``, worst group first.

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
        """
        n_pool = check_query_args(learner, X_pool, n_instances)
        errors, pool_codes = self.group_errors(
            learner, pool_sensitive_features=sensitive_features
        )
        if len(pool_codes) != n_pool:
            raise ValueError(
                f"sensitive_features has {len(pool_codes)} rows but X_pool has "
                f"{n_pool}; it needs one group label per pool row."
            )
        # Equal utilities within a group: the seeded top-k draws uniformly in it.
        utilities = np.where(np.isinf(errors), 2.0, errors)[pool_codes]
        return select_top_k(utilities, n_instances, random_state=random_state)


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
