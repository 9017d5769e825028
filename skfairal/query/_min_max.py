"""Active sampling for min-max fairness (Abernethy et al., ICML 2022)."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from ..utils import select_top_k
from ._base import check_fairness_set, check_query_args
from ._group_aware import (
    group_losses_and_pool_codes,
    out_of_fold_losses,
    row_losses,
)


class MinMaxSampling(BaseEstimator):
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
    the next-worst group fills the batch, and so on.

    **Where the losses come from.** ``fairness_set=(X_val, y_val,
    sensitive_features_val)``: the paper's held-out labeled validation set,
    scored with the learner's current model. Without it (the default), the
    learner's labeled rows are scored out of fold by ``cv``-fold
    cross-validation of a clone of its estimator, as in
    :class:`GroupAwareRandomSampling` (which is this strategy with the
    zero-one loss and ``p=0``). A pool group with no labeled row counts as
    the worst: nothing is known about it.

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
        its own, which then wins).

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

    _parameter_constraints = {
        "p": [Interval(Real, 0, 1, closed="both")],
        "loss": [StrOptions({"log_loss", "zero_one"})],
        "fairness_set": [tuple, None],
        "cv": [Interval(Integral, 2, None, closed="left")],
        "random_state": ["random_state"],
    }

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

        Parameters
        ----------
        learner : FairActiveClassifier
            Fitted, with the sensitive features of its labeled rows.
        pool_sensitive_features : array-like of shape (n_pool,) or (n_pool, n_columns)
            Group labels of the pool rows.

        Returns
        -------
        losses : ndarray of shape (n_groups,)
            Mean loss per group; ``inf`` for a group without scored rows.
        pool_codes : ndarray of shape (n_pool,)
            Index into ``losses`` of each pool row's group.
        """
        self._validate_params()
        if pool_sensitive_features is None:
            raise ValueError(
                "min-max sampling needs sensitive_features for the pool rows."
            )
        if self.fairness_set is None:
            scored_groups = getattr(learner, "sensitive_features_labeled_", None)
            if scored_groups is None:
                raise ValueError(
                    "min-max sampling needs the sensitive features of the labeled "
                    "rows (pass sensitive_features to the learner's fit and "
                    "teach) or a fairness_set."
                )
            losses = out_of_fold_losses(learner, self.cv, self.loss)
        else:
            losses, scored_groups = self._validation_losses(learner)
        return group_losses_and_pool_codes(
            losses, scored_groups, pool_sensitive_features
        )

    def _validation_losses(self, learner):
        classes = np.asarray(learner.classes_)
        X_val, _, codes = check_fairness_set(self.fairness_set, classes)
        if codes is None:
            raise ValueError(
                "min-max sampling needs y_val in fairness_set; it is None."
            )
        method = "predict" if self.loss == "zero_one" else "predict_proba"
        output = getattr(learner, method)(X_val)
        if self.loss == "zero_one":
            output = np.searchsorted(classes, np.asarray(output))
        return row_losses(output, codes, self.loss), self.fairness_set[2]

    def __call__(
        self,
        learner,
        X_pool,
        n_instances: int = 1,
        *,
        sensitive_features=None,
        random_state=None,
    ) -> np.ndarray:
        """Query ``n_instances`` rows of ``X_pool``: the worst group's first.

        Parameters
        ----------
        learner : FairActiveClassifier
            Fitted, with the sensitive features of its labeled rows (or a
            ``fairness_set``).
        X_pool : array-like of shape (n_pool, n_features)
            Unlabeled rows to choose from.
        n_instances : int, default=1
            How many rows to return.
        sensitive_features : array-like of shape (n_pool,) or (n_pool, n_columns)
            Group labels of the pool rows (required).
        random_state : int, RandomState instance or None, default=None
            Seed of the draws; None falls back to the ``random_state``
            parameter.

        Returns
        -------
        indices : ndarray of shape (n_instances,)
            Row indices into ``X_pool``: the worst-group picks, then the
            uniform ones.
        """
        n_pool = check_query_args(learner, X_pool, n_instances)
        if random_state is None:
            random_state = self.random_state
        rng = check_random_state(random_state)
        losses, pool_codes = self.group_losses(
            learner, pool_sensitive_features=sensitive_features
        )
        if len(pool_codes) != n_pool:
            raise ValueError(
                f"sensitive_features has {len(pool_codes)} rows but X_pool has "
                f"{n_pool}; it needs one group label per pool row."
            )
        n_uniform = int(rng.binomial(n_instances, self.p))
        # Rank groups by loss (an unknown group first); equal utilities within a
        # group make the seeded top-k draw uniformly inside it.
        rank = np.argsort(np.argsort(np.where(np.isinf(losses), np.inf, losses)))
        n_worst = n_instances - n_uniform
        worst = np.empty(0, dtype=np.intp)
        if n_worst:
            utility = rank[pool_codes].astype(np.float64)
            worst = select_top_k(utility, n_worst, random_state=rng)
        if n_uniform == 0:
            return worst
        rest = np.setdiff1d(np.arange(n_pool), worst)
        uniform = rest[select_top_k(np.zeros(len(rest)), n_uniform, random_state=rng)]
        return np.concatenate([worst, uniform])
