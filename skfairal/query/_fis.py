"""FIS: fair influential sampling (Pang, Wang, Zhu, Yao, Qian and Liu, NeurIPS 2024)."""

import numpy as np
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import _num_samples

from ..utils import select_top_k
from ._base import BaseQueryStrategy, check_fairness_set
from ._influence import FairnessCells, LogisticInfluence, _sigmoid

_OWNER = "FISSampling"
_FIX = (
    "FIS takes a row's influence from the Hessian of a logistic regression: "
    "end the Pipeline with a binary LogisticRegression, or use a strategy that "
    "refits any classifier, FALSampling(method='exact')."
)


class FISSampling(BaseQueryStrategy):
    r"""Fair influential sampling: lower the unfairness without raising the loss.

    After Pang, Wang, Zhu, Yao, Qian and Liu (*Fairness without Harm: An
    Influence-Guided Active Sampling Approach*, NeurIPS 2024). Each pool row
    is scored by the first-order influence that labeling it would have on
    two losses of a validation set :math:`V`, its prediction loss and its
    fairness loss, and the rows that lower the fairness loss without
    raising the prediction loss are queried. Group labels are needed on
    :math:`V` only, never on the pool: ``sensitive_features`` of the pool
    are accepted and ignored.

    **The scores.** The learner's final step, a binary
    :class:`~sklearn.linear_model.LogisticRegression` with parameters
    :math:`\theta` (read in the learner's feature space by
    :class:`LogisticInfluence`; a Pipeline's other steps are held fixed),
    has on :math:`V` the prediction loss :math:`L(\theta)`, the mean log
    loss, and the fairness loss :math:`\phi(\theta)`, the chosen disparity
    of its *probabilities* (a soft gap: for demographic
    parity, the largest minus the smallest mean probability of class 1 of
    a group; for equalized odds the same within each true class, the wider
    of the two gaps; for error-rate balance, the gap in mean probability of
    error). A pool row's label is unknown, so the model's predicted label
    :math:`\hat y` stands in for it, and labeling :math:`(x, \hat y)`
    changes a loss :math:`F` by, to first order (the influence function of
    Koh and Liang, 2017; :meth:`LogisticInfluence.influence`),

    .. math:: I_F(x) = (\hat y - p(x))\, \tilde x^\top H^{-1}
              \nabla_\theta F(\theta),

    :math:`H` the Hessian of the model's training objective on its labeled
    rows. Both gradients are solved against :math:`H` once per query; each
    pool row then costs one product with two vectors, so a query costs
    about one ``predict_proba`` plus the feature transform (measured: see
    the user guide).

    **The selection** (this rule is ours). Rows with :math:`I_L(x) \le 0`
    (labeling them does not raise the validation loss, to first order) come
    first, ranked by :math:`I_\phi(x)`, the largest decrease of the fairness
    loss first. When fewer than ``n_instances`` rows qualify, the rest of
    the batch is filled with the rows that raise the loss least (smallest
    :math:`I_L` first): harm to accuracy is the constraint, unfairness the
    objective, and a row that breaks the constraint is ranked by how much.
    When every fairness influence is 0 (a validation set of one group, or a
    gap of exactly 0, which no direction lowers), the qualifying rows are
    ranked by :math:`I_L`. Ties are broken by
    :func:`skfairal.utils.select_top_k` with the query's seed.

    **What is the paper's and what is ours.** The paper's (from its
    abstract and published summaries; its full text and code were not
    available offline): scoring each new example by its influence on the
    fairness and on the accuracy of a model evaluated on a validation set
    that alone carries group labels, and selecting examples that lower the
    unfairness without harming accuracy. Ours: the exact influence function
    of a convex logistic regression (the paper trains neural networks by
    gradient steps, and whether its estimate is preconditioned by
    :math:`H^{-1}` could not be checked); the model's predicted label as
    the proxy label; the log loss as the prediction loss and the gap of
    mean probabilities as the differentiable fairness loss; the selection
    and fill rule above; every pool row scored (no candidate sample: the
    cost is linear); and ``fairness_set=None`` defaulting to the learner's
    labeled rows.

    **In sample.** With ``fairness_set=None`` the validation set is the
    learner's labeled rows and their groups. The model was fitted on them,
    so the gradient of their loss is only the penalty's and :math:`I_L`
    says little (with no penalty it is about 0 for every row); the
    fairness loss is still measured. Pass a held-out
    ``fairness_set`` for the paper's setting.

    Only a binary ``LogisticRegression`` without ``class_weight``, with the
    L2 penalty or none and a solver other than ``liblinear``, alone or as
    the last step of a Pipeline, is read: another model raises a
    ``ValueError`` that names the step and the alternative (a strategy that
    refits any classifier, ``FALSampling(method="exact")``).

    Parameters
    ----------
    metric : {"demographic_parity", "equalized_odds", "error_rate_balance"}
        The disparity (default ``"demographic_parity"``) whose soft version
        is the fairness loss :math:`\phi`
        (see :func:`~skfairal.metrics.demographic_parity_difference`,
        :func:`~skfairal.metrics.equalized_odds_difference` and
        :func:`~skfairal.metrics.error_rate_balance_difference`), for any
        number of groups.
    fairness_set : tuple or None, default=None
        The validation set :math:`V`, ``(X_val, y_val,
        sensitive_features_val)``, with ``y_val`` in the learner's classes
        (required: the prediction loss is measured on it). None uses the
        learner's labeled rows and their groups, scored in sample.
    random_state : int, RandomState instance or None, default=None
        Seed of the tie-breaking, used when the call passes none (a learner
        passes its own, which then wins).

    See Also
    --------
    LogisticInfluence : the model reading and the influence function.
    FALSampling : entropy against the expected unfairness of a refit.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skfairal import FairActiveClassifier
    >>> from skfairal.datasets import make_biased_classification
    >>> from skfairal.query import FISSampling
    >>> X, y, g = make_biased_classification(600, random_state=0)
    >>> learner = FairActiveClassifier(LogisticRegression())
    >>> learner = learner.fit(X[:100], y[:100], sensitive_features=g[:100])

    A held-out validation set carries the only group labels it reads; the
    pool's are not needed:

    >>> fis = FISSampling(fairness_set=(X[100:300], y[100:300], g[100:300]))
    >>> picks = fis(learner, X[300:], 5, random_state=0)
    >>> picks.shape
    (5,)

    The picks do not raise the validation loss and lower its unfairness, to
    first order:

    >>> loss, unfairness = fis.influences(learner, X[300:])
    >>> bool((loss[picks] <= 0).all() and (unfairness[picks] < 0).all())
    True
    """

    _parameter_constraints = {
        "metric": [
            StrOptions({"demographic_parity", "equalized_odds", "error_rate_balance"})
        ],
        "fairness_set": [tuple, None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        metric: str = "demographic_parity",
        fairness_set=None,
        random_state=None,
    ):
        self.metric = metric
        self.fairness_set = fairness_set
        self.random_state = random_state

    def influences(
        self, learner, X_pool, *, sensitive_features=None
    ) -> tuple[np.ndarray, np.ndarray]:
        """First-order influence of labeling each pool row on the validation losses.

        The call is validated as a query is (see :class:`BaseQueryStrategy`).

        Parameters
        ----------
        learner : FairActiveClassifier
            Fitted on a binary problem with a logistic regression.
        X_pool : array-like, sparse matrix or DataFrame of shape (n_pool, ...)
            Unlabeled rows.
        sensitive_features : array-like of shape (n_pool,), default=None
            Accepted and ignored: FIS needs no groups of the pool.

        Returns
        -------
        loss : ndarray of shape (n_pool,)
            :math:`I_L`, the change of the validation log loss after
            labeling each row with the model's predicted label.
        unfairness : ndarray of shape (n_pool,)
            :math:`I_\\phi`, the change of the validation fairness loss.
        """
        view, _, _ = self._validate_call(
            learner, X_pool, 1, sensitive_features, random_state=0
        )
        return self._influences(view, X_pool)

    def _query(self, view, X_pool, n_instances, groups, rng):
        loss, unfairness = self._influences(view, X_pool)
        harmless = loss <= 0
        qualify, others = np.flatnonzero(harmless), np.flatnonzero(~harmless)
        key = -unfairness if np.any(unfairness[qualify]) else -loss
        n_first = min(n_instances, len(qualify))
        picks = []
        if n_first:
            picks.append(qualify[select_top_k(key[qualify], n_first, random_state=rng)])
        if n_first < n_instances:
            n_fill = n_instances - n_first
            picks.append(others[select_top_k(-loss[others], n_fill, random_state=rng)])
        return np.concatenate(picks)

    def _influences(self, view, X_pool):
        if view.n_classes != 2:
            raise ValueError(
                f"{_OWNER} supports binary classification only; the learner has "
                f"{view.n_classes} classes."
            )
        # The model is checked before the data, so that its error does not
        # depend on the validation set.
        influence = LogisticInfluence(view, owner=_OWNER, fix=_FIX)
        X_val, y_val, cells = self._validation(view)
        X_v = influence.design(X_val)
        scores = X_v @ influence.theta
        p_v = _sigmoid(scores)
        # The gradients of the mean log loss and of the soft disparity in
        # theta, both X_v^T (residual per row).
        loss_residual = (p_v - y_val) / len(y_val)
        _, d_proba = cells.soft_gap(p_v)
        fair_residual = d_proba * p_v * (1.0 - p_v)
        gradients = X_v.T @ np.column_stack([loss_residual, fair_residual])
        scores_pool, _ = influence.influence(X_pool, gradients)
        return scores_pool[:, 0], scores_pool[:, 1]

    def _validation(self, view):
        """(rows, class codes, FairnessCells) of the validation set."""
        if self.fairness_set is None:
            encoding = view.require_labeled_groups("or a fairness_set")
            X_val, y_codes = view.X_labeled, view.y_encoded
        else:
            X_val, encoding, y_codes = check_fairness_set(
                self.fairness_set, view.classes
            )
            if y_codes is None:
                raise ValueError(
                    f"{_OWNER} measures the prediction loss on the fairness_set, "
                    "which needs its labels: y_val is None."
                )
            if _num_samples(X_val) == 0:
                raise ValueError(f"{_OWNER}'s fairness_set has no rows.")
            view.check_rows(X_val, name="X_val")
        cells = FairnessCells.of(encoding.codes, y_codes, self.metric)
        return X_val, np.asarray(y_codes, dtype=np.float64), cells
