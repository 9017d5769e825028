"""Active sampling for min-max fairness (Abernethy et al., ICML 2022)."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.utils._param_validation import Interval, StrOptions

from ..utils import check_sensitive_features, select_top_k, shared_group_codes
from ._base import BaseQueryStrategy, check_fairness_set, learner_view


def _row_losses(output, y_codes, loss: str) -> np.ndarray:
    """Per-row zero-one loss of predicted codes, or log loss of probabilities."""
    if loss == "zero_one":
        return (np.asarray(output) != y_codes).astype(np.float64)
    # Clipped as sklearn.metrics.log_loss does: a confident mistake costs
    # about 34.5, not infinity, so one row cannot make its group "unknown".
    proba = np.clip(np.asarray(output, dtype=np.float64), 1e-15, 1.0)
    return -np.log(proba[np.arange(len(y_codes)), y_codes])


def _out_of_fold_losses(view, cv: int, loss: str) -> np.ndarray:
    """Each labeled row's loss under a model that did not see it.

    In-sample losses would flatter small groups the model has memorised, so
    a clone of the base estimator is refit by stratified ``cv``-fold
    cross-validation; with fewer than two rows in some class that is
    impossible and the fitted model's in-sample losses are used instead.
    """
    y = view.y_encoded
    n_splits = min(cv, int(np.unique(y, return_counts=True)[1].min()))
    method = "predict" if loss == "zero_one" else "predict_proba"
    if n_splits < 2:
        out = getattr(view.estimator, method)(view.X_labeled)
    else:
        out = cross_val_predict(
            clone(view.estimator),
            view.X_labeled,
            y,
            cv=StratifiedKFold(n_splits=n_splits),
            method=method,
        )
    return _row_losses(out, y, loss)


class MinMaxSampling(BaseQueryStrategy):
    """Label the group with the largest loss: active sampling for min-max fairness.

    The strategy of Abernethy, Awasthi, Kleindessner, Morgenstern, Russell and
    Zhang (*Active sampling for min-max fairness*, ICML 2022, Algorithm 1).
    Each round estimates every group's loss on a validation set and samples
    from the pool's rows of the group whose loss is largest; with probability
    ``p`` a pick is drawn from the whole pool instead. Minimising the worst
    group's loss is min-max fairness: the model is pushed toward the group it
    serves worst, not toward equal outcomes.

    The paper updates the model by an SGD step after each sample; a
    :class:`~skfairal.FairActiveClassifier` refits its estimator on all
    labeled rows at every ``teach``, which reaches the same model as running
    that SGD to convergence (and works for any estimator, incremental or not).
    With ``n_instances > 1`` the losses are estimated once per batch, and each
    of the ``n_instances`` picks independently comes from the whole pool with
    probability ``p``; when the worst group has fewer pool rows than needed,
    the next-worst group fills the batch, and so on. Groups whose losses are
    equal are drawn from together, uniformly.

    **Where the losses come from.** ``fairness_set=(X_val, y_val,
    sensitive_features_val)``: the paper's held-out labeled validation set,
    scored with the learner's current model. Without it (the default), the
    learner's labeled rows are scored out of fold by ``cv``-fold
    cross-validation of a clone of its base estimator (in-sample losses would
    flatter small groups the model has memorised; when some class has fewer
    than two labeled rows, the fitted model's in-sample losses are used). A
    pool group with no scored row counts as the worst: nothing is known
    about it. The pool's groups are matched to the scored rows' groups by
    value, whatever container holds either.

    :class:`GroupAwareRandomSampling` is this strategy with the zero-one loss,
    ``p=0`` and no ``fairness_set``.

    Parameters
    ----------
    p : float in [0, 1], default=0.0
        Probability that a pick is drawn uniformly from the whole pool. 0 is
        pure min-max sampling; 1 is random sampling.
    loss : {"log_loss", "zero_one"}, default="log_loss"
        The per-group loss: mean log loss (the paper's training loss) or
        error rate.
    fairness_set : tuple or None, default=None
        ``(X_val, y_val, sensitive_features_val)``, labels in the learner's
        classes; None estimates the losses out of fold on the labeled rows.
    cv : int, default=3
        Folds of the out-of-fold estimate (no effect with a ``fairness_set``).
    random_state : int, RandomState instance or None, default=None
        Seed used when the call's ``random_state`` is None (a learner passes
        its round's seed, which then wins).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skfairal import FairActiveClassifier
    >>> from skfairal.datasets import make_biased_classification
    >>> from skfairal.query import MinMaxSampling
    >>> X, y, g = make_biased_classification(400, random_state=0)
    >>> learner = FairActiveClassifier(LogisticRegression())
    >>> learner = learner.fit(X[:60], y[:60], sensitive_features=g[:60])
    >>> strategy = MinMaxSampling(p=0.0)
    >>> picks = strategy(learner, X[60:], 5, sensitive_features=g[60:], random_state=0)
    >>> len(np.unique(g[60:][picks]))  # all from the worst group
    1
    """

    requires_pool_groups = True

    _parameter_constraints = {
        "p": [Interval(Real, 0, 1, closed="both")],
        "loss": [StrOptions({"log_loss", "zero_one"})],
        "fairness_set": [tuple, None],
        "cv": [Interval(Integral, 2, None, closed="left")],
        "random_state": ["random_state"],
    }

    # Completes "needs the sensitive features of the labeled rows ...".
    _labeled_groups_alternative = "or a fairness_set"

    def __init__(
        self,
        p: float = 0.0,
        loss: str = "log_loss",
        fairness_set=None,
        cv: int = 3,
        random_state=None,
    ):
        self.p = p
        self.loss = loss
        self.fairness_set = fairness_set
        self.cv = cv
        self.random_state = random_state

    def group_losses(self, learner, *, pool_sensitive_features):
        """Estimated loss of every group, and each pool row's group.

        The losses a query ranks the groups by, for inspection.

        Parameters
        ----------
        learner : FairActiveClassifier
            Fitted, with the sensitive features of its labeled rows (or a
            ``fairness_set``).
        pool_sensitive_features : array-like of shape (n_pool,) or (n_pool, n_columns)
            Group labels of the pool rows.

        Returns
        -------
        losses : ndarray of shape (n_groups,)
            Mean loss per group (the error rate for ``loss="zero_one"``);
            ``inf`` for a group without scored rows. The groups are those of
            the scored rows (the labeled rows, or the ``fairness_set``),
            sorted, then those seen only in the pool, sorted.
        pool_codes : ndarray of shape (n_pool,)
            Index into ``losses`` of each pool row's group.

        Examples
        --------
        >>> from sklearn.linear_model import LogisticRegression
        >>> from skfairal import FairActiveClassifier
        >>> from skfairal.query import MinMaxSampling
        >>> X = [[0.0], [1.0], [2.0], [10.0], [11.0], [12.0]]
        >>> learner = FairActiveClassifier(LogisticRegression()).fit(
        ...     X, [0, 0, 0, 1, 1, 1], sensitive_features=["a"] * 6
        ... )
        >>> losses, codes = MinMaxSampling(loss="zero_one").group_losses(
        ...     learner, pool_sensitive_features=["b", "a"]
        ... )
        >>> losses, codes
        (array([ 0., inf]), array([1, 0]))
        """
        self._validate_params()
        if pool_sensitive_features is None:
            raise ValueError(
                f"{type(self).__name__} needs sensitive_features for the pool rows."
            )
        view = learner_view(learner, type(self).__name__)
        pool_groups = check_sensitive_features(pool_sensitive_features)
        return self._group_losses(view, pool_groups)

    def _group_losses(self, view, pool_groups):
        if self.fairness_set is None:
            scored = view.require_labeled_groups(self._labeled_groups_alternative)
            losses = _out_of_fold_losses(view, self.cv, self.loss)
        else:
            losses, scored = self._validation_losses(view)
        # Matched by value: the scored rows' groups and the pool's may come in
        # different containers (a named Series at fit, a list at query).
        scored_codes, pool_codes, groups = shared_group_codes(scored, pool_groups)
        counts = np.bincount(scored_codes, minlength=len(groups))
        sums = np.bincount(scored_codes, weights=losses, minlength=len(groups))
        means = np.full(len(groups), np.inf)
        np.divide(sums, counts, out=means, where=counts > 0)
        return means, pool_codes

    def _validation_losses(self, view):
        X_val, encoding, codes = check_fairness_set(self.fairness_set, view.classes)
        if codes is None:
            raise ValueError(
                f"{type(self).__name__} needs y_val in fairness_set; it is None."
            )
        if self.loss == "zero_one":
            output = view.predict_codes(X_val)
        else:
            output = view.predict_proba(X_val)
        return _row_losses(output, codes, self.loss), encoding

    def _query(self, view, X_pool, n_instances, groups, rng):
        losses, pool_codes = self._group_losses(view, groups)
        n_pool = len(pool_codes)
        # A draw only when p is strictly between 0 and 1: with p = 0 the
        # generator then serves the within-group draw alone, so group-aware
        # random sampling picks what it always has for a given seed.
        if 0 < self.p < 1:
            n_uniform = int(rng.binomial(n_instances, self.p))
        else:
            n_uniform = n_instances if self.p == 1 else 0
        n_worst = n_instances - n_uniform
        worst = np.empty(0, dtype=np.intp)
        if n_worst:
            # Rows of one group tie (as do groups of equal loss), so the
            # seeded top-k draws uniformly among them; an unknown group's
            # inf ranks above every loss.
            worst = select_top_k(losses[pool_codes], n_worst, random_state=rng)
        if n_uniform == 0:
            return worst
        rest = np.setdiff1d(np.arange(n_pool), worst)
        uniform = rest[select_top_k(np.zeros(len(rest)), n_uniform, random_state=rng)]
        return np.concatenate([worst, uniform])
