"""What labeling one more row would do to a logistic regression, without a refit.

:class:`LogisticInfluence` reads a learner's fitted binary logistic
regression in its feature space and gives, for each candidate row and label,
the damped Newton step the model would take, and the hard-prediction
disparity on a fairness set after that step. FAL's ``method="fast"`` and
FACA-GEN's fairness arm both use it. :meth:`LogisticInfluence.influence` (the
influence function of any objective of the parameters) and
:meth:`FairnessCells.soft_gap` (a differentiable disparity) are FIS's.
"""

from typing import NamedTuple

import numpy as np
from sklearn.linear_model import LogisticRegression

from ..metrics import group_rate_gap
from ..utils import GroupEncoding, check_sensitive_features, take_rows
from ._base import learner_view
from ._hessian import LogisticHessian
from ._view import LearnerView, _dense_features, final_estimator

# Entries of a candidates x fairness-rows block of score changes: cache-sized,
# which measured fastest.
_FAST_BLOCK = 2**18
# Rows of the fairness set designed at once when its scores are first read.
_DESIGN_ROWS = 2**14
# Below this many design entries the fairness set is kept designed between
# candidate blocks (64 MB of float64).
_KEEP_DESIGN = 2**23

LABELED_METRICS = ("equalized_odds", "error_rate_balance")


class FairnessCells(NamedTuple):
    """The cells a disparity is counted in on a fairness set.

    Demographic parity compares groups, so a cell is a group; equalized odds
    and error-rate balance compare rates within each class, so a cell is a
    (group, class) pair, keyed ``2 * group + class``.

    Attributes
    ----------
    cells : ndarray of shape (n_rows,)
        The cell of each row, an index into ``present``.
    present : ndarray of shape (n_cells,)
        The key of each cell that has rows.
    sizes : ndarray of shape (n_cells,)
        Rows per cell.
    metric : str
        ``"demographic_parity"``, ``"equalized_odds"`` or
        ``"error_rate_balance"``.
    """

    cells: np.ndarray
    present: np.ndarray
    sizes: np.ndarray
    metric: str

    @classmethod
    def of(cls, group_codes, y_codes=None, metric: str = "demographic_parity"):
        """The cells of rows with these group codes (and class codes)."""
        group_codes = np.asarray(group_codes, dtype=np.intp)
        if metric == "demographic_parity":
            keys = group_codes
        elif y_codes is None:
            raise ValueError(
                f"metric={metric!r} compares rates within each class and needs "
                "the class codes of the fairness set."
            )
        else:
            keys = group_codes * 2 + np.asarray(y_codes, dtype=np.intp)
        present, cells = np.unique(keys, return_inverse=True)
        return cls(cells, present, np.bincount(cells), metric)

    def gap(self, positives) -> np.ndarray:
        """The disparity of each column of ``positives``.

        Parameters
        ----------
        positives : ndarray of shape (n_cells, m)
            Positive predictions per cell of ``m`` models.

        Returns
        -------
        disparity : ndarray of shape (m,)
            Demographic parity: the gap in positive rate between groups.
            Equalized odds: the larger of the TPR and FPR gaps (a class seen
            in fewer than two groups adds no gap). Error-rate balance: the
            gap in error rate. A fairness set of one group has no gap (0).
        """
        rates = np.asarray(positives) / self.sizes[:, None]
        zero = np.zeros(rates.shape[1])
        if self.metric == "demographic_parity":
            return np.fmax(group_rate_gap(rates, axis=0), zero)
        if self.metric == "equalized_odds":
            gap = zero
            for cls in (0, 1):
                rows = rates[self.present % 2 == cls]
                if len(rows):
                    gap = np.fmax(gap, group_rate_gap(rows, axis=0))
            return gap
        # Error-rate balance: errors are the positives of class 0 and the
        # negatives of class 1, summed over each group's two cells.
        errors = np.where((self.present % 2 == 1)[:, None], 1.0 - rates, rates)
        errors = errors * self.sizes[:, None]
        groups, group_of_cell = np.unique(self.present // 2, return_inverse=True)
        per_group = np.zeros((len(groups), rates.shape[1]))
        np.add.at(per_group, group_of_cell, errors)
        per_group /= np.bincount(group_of_cell, weights=self.sizes)[:, None]
        return np.fmax(group_rate_gap(per_group, axis=0), zero)

    def disparity(self, positive) -> float:
        """The disparity of one model's hard predictions (True = positive)."""
        counts = np.bincount(self.cells, weights=positive, minlength=len(self.present))
        return float(self.gap(counts[:, None])[0])

    def soft_gap(self, proba) -> tuple[float, np.ndarray]:
        """The disparity of probabilities instead of predictions, and its gradient.

        Each cell's rate is the mean of its rows' probability of class 1
        rather than their share of positive predictions; the gap is then
        taken as :meth:`gap` takes it (hard 0/1 probabilities give
        :meth:`disparity`). It is differentiable wherever the cells of the
        largest and smallest rate are unique, which makes it a loss a
        first-order influence can be taken of.

        Parameters
        ----------
        proba : array-like of shape (n_rows,)
            Each row's probability of class 1.

        Returns
        -------
        gap : float
        gradient : ndarray of shape (n_rows,)
            The derivative of ``gap`` with respect to each row's probability
            (0 everywhere when the gap is 0: no direction lowers it).
        """
        proba = np.asarray(proba, dtype=np.float64)
        n_cells = len(self.present)
        rates = np.bincount(self.cells, weights=proba, minlength=n_cells) / self.sizes
        if self.metric == "demographic_parity":
            gap, d_rate = _spread(rates, np.arange(n_cells))
        elif self.metric == "equalized_odds":
            gap, d_rate = 0.0, np.zeros(n_cells)
            for cls in (0, 1):
                cls_gap, cls_d = _spread(rates, np.flatnonzero(self.present % 2 == cls))
                if cls_gap > gap:  # the wider of the TPR and FPR gaps
                    gap, d_rate = cls_gap, cls_d
        else:  # error-rate balance: a group's error mixes its two cells
            sign = np.where(self.present % 2 == 1, -1.0, 1.0)
            errors = np.where(sign < 0, 1.0 - rates, rates) * self.sizes
            groups, group_of_cell = np.unique(self.present // 2, return_inverse=True)
            per_group = np.bincount(group_of_cell, weights=self.sizes)
            error_rate = np.bincount(group_of_cell, weights=errors) / per_group
            gap, d_group = _spread(error_rate, np.arange(len(groups)))
            share = (
                self.sizes / per_group[group_of_cell]
            )  # a cell's weight in its group
            d_rate = d_group[group_of_cell] * sign * share
        return gap, (d_rate / self.sizes)[self.cells]


def _spread(values, index) -> tuple[float, np.ndarray]:
    """Largest minus smallest of ``values[index]``, and its gradient in ``values``."""
    d = np.zeros(len(values))
    if len(index) < 2:
        return 0.0, d
    high = index[np.argmax(values[index])]
    low = index[np.argmin(values[index])]
    gap = float(values[high] - values[low])
    if gap > 0:
        d[high], d[low] = 1.0, -1.0
    return gap, d


def sample_fairness_rows(X, groups: GroupEncoding, max_rows, rng):
    """``(X, groups)``, or a sample of ``max_rows`` of their rows when longer.

    Every candidate's unfairness is read on every row of the fairness set: a
    sample of the pool keeps a query linear in the pool instead of
    candidates x pool. Rows keep their order; ``rng`` is the query's.
    """
    if max_rows is None or len(groups.codes) <= max_rows:
        return X, groups
    rows = np.sort(rng.choice(len(groups.codes), max_rows, replace=False))
    return take_rows(X, rows), GroupEncoding(
        groups.codes[rows], groups.groups, groups.names
    )


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # the logistic, without overflow


def _unreadable(model) -> tuple[str, str] | None:
    """(what is needed, what was found) when ``model`` cannot be read, else None."""
    if not isinstance(model, LogisticRegression):
        return "the last step to be LogisticRegression", type(model).__name__
    # An unfitted model (asked before a fit) has no classes yet.
    if hasattr(model, "coef_") and model.coef_.shape[0] != 1:
        return "a binary LogisticRegression", f"{len(model.classes_)} classes"
    if model.class_weight is not None:
        return (
            "a LogisticRegression without class_weight",
            f"class_weight={model.class_weight!r}",
        )
    if model.solver == "liblinear":
        # liblinear penalises the intercept: another objective, another Hessian.
        return (
            "a LogisticRegression whose solver leaves the intercept unpenalised",
            "solver='liblinear'",
        )
    penalty, l1_ratio = model.penalty, model.l1_ratio
    l2 = penalty == "l2" or (penalty == "deprecated" and l1_ratio in (0, 0.0, None))
    if not (penalty is None or not np.isfinite(model.C) or l2):
        return (
            "a LogisticRegression with the L2 penalty or none",
            f"penalty={penalty!r}, l1_ratio={l1_ratio!r}",
        )
    return None


class LogisticInfluence:
    r"""The effect of labeling one more row on a fitted logistic regression.

    Reads the learner's final step, a fitted binary
    :class:`~sklearn.linear_model.LogisticRegression` (alone, or the last
    step of a Pipeline whose other steps are then held fixed), in the
    learner's feature space (:meth:`LearnerView.features`). With
    :math:`\lambda = 1/C` (0 without penalty), its parameters
    :math:`\theta = (w, b)` minimise :math:`\sum \ell + \tfrac{\lambda}{2}
    \lVert w \rVert^2` (intercept unpenalised), whose Hessian on the labeled
    features is

    .. math:: H = \tilde X^\top \operatorname{diag}(p(1 - p)) \tilde X +
              \lambda \operatorname{diag}(1, \dots, 1, 0),

    :math:`\tilde x = (x, 1)`. Adding a row :math:`(x, y)` moves
    :math:`\theta` by one Newton step of the new objective,

    .. math:: \Delta(x, y) = (y - p(x))\, u(x), \qquad u(x) =
              \frac{H^{-1} \tilde x}{1 + p(x)(1 - p(x))\, \tilde x^\top
              H^{-1} \tilde x},

    the Sherman-Morrison form of the influence-function update: the new
    row's own curvature damps high-leverage steps. A tiny ridge
    (``1e-8`` of :math:`H`'s mean diagonal) keeps :math:`H` invertible for
    separable or unpenalised fits.

    The step is first order: accurate when it is small, less so for tiny
    labeled sets and rows of huge leverage (the damping helps). Only a
    binary model without ``class_weight``, with the L2 penalty or none and a
    solver other than ``liblinear`` (which penalises the intercept) is read;
    anything else raises a ``ValueError`` naming ``owner``, what was found
    and ``fix``.

    Parameters
    ----------
    learner : LearnerView or FairActiveClassifier
        The fitted learner (or its view), with its labeled rows.
    owner : str, default="LogisticInfluence"
        Who reads the model, named in errors (a strategy and its option).
    fix : str, default=""
        What to do instead, appended to errors.

    Attributes
    ----------
    model : LogisticRegression
        The learner's final step.
    penalty_strength : float
        :math:`\lambda`.
    theta : ndarray of shape (n_params,)
        :math:`(w, b)` (no :math:`b` when the model fits no intercept).
    hessian_inverse : ndarray of shape (n_params, n_params)
        :math:`H^{-1}`, formed when first read: the steps and influences
        solve with a factorisation of :math:`H` instead, by the Woodbury
        identity when there are fewer labeled rows than parameters (a wide
        genotype matrix), which never forms :math:`H` either.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skfairal import FairActiveClassifier
    >>> from skfairal.datasets import make_biased_classification
    >>> from skfairal.query import LogisticInfluence
    >>> X, y, g = make_biased_classification(400, random_state=0)
    >>> learner = FairActiveClassifier(LogisticRegression())
    >>> learner = learner.fit(X[:200], y[:200], sensitive_features=g[:200])
    >>> influence = LogisticInfluence(learner)

    One Newton step predicts the refit after labeling row 200 positive:

    >>> u, p = influence.steps(X[200:201])
    >>> predicted = influence.theta + (1 - p[0]) * u[:, 0]
    >>> refit = LogisticRegression().fit(X[:201], np.append(y[:200], 1))
    >>> actual = np.append(refit.coef_, refit.intercept_)
    >>> bool(np.abs(predicted - actual).max() < 1e-3)
    True

    The demographic-parity difference on rows 200-399 after labeling each of
    three candidates 0 (first column) or 1 (second):

    >>> influence.unfairness(X[200:203], X[200:], g[200:]).shape
    (3, 2)
    """

    def __init__(self, learner, *, owner: str = "LogisticInfluence", fix: str = ""):
        view = (
            learner
            if isinstance(learner, LearnerView)
            else learner_view(learner, owner)
        )
        model = view.final_estimator
        problem = _unreadable(model)
        if problem is not None:
            need, got = problem
            raise ValueError(f"{owner} needs {need}; got {got}. {fix}".rstrip())
        if model.penalty is None or not np.isfinite(model.C):
            self.penalty_strength = 0.0
        else:
            self.penalty_strength = 1.0 / model.C
        self.model = model
        self._features = view.features
        self._intercept = bool(model.fit_intercept)
        self._w = model.coef_.ravel()
        self._b = float(model.intercept_[0]) if self._intercept else 0.0
        self.theta = np.append(self._w, self._b) if self._intercept else self._w
        X_lab = _dense_features(view.labeled_features)
        ones = np.ones((len(X_lab), 1))
        design = np.hstack([X_lab, ones]) if self._intercept else X_lab
        p_lab = _sigmoid(design @ self.theta)
        self._hessian = LogisticHessian(
            X_lab, p_lab * (1 - p_lab), self.penalty_strength, self._intercept
        )
        self._hessian_inverse = None

    @property
    def hessian_inverse(self) -> np.ndarray:
        """:math:`H^{-1}`, formed at first access and kept.

        The steps and influences never form it (they solve with :math:`H`'s
        factors): reading it costs :math:`O(d^3)`, or :math:`O(n d^2)` with
        fewer labeled rows :math:`n` than parameters.
        """
        if self._hessian_inverse is None:
            self._hessian_inverse = self._hessian.inverse()
        return self._hessian_inverse

    @staticmethod
    def can_read(estimator) -> bool:
        """Whether ``estimator``'s last step is a logistic regression it reads.

        Parameters
        ----------
        estimator : estimator or Pipeline
            Fitted or not; a fitted one must also be binary.

        Returns
        -------
        readable : bool
        """
        return _unreadable(final_estimator(estimator)) is None

    def _design(self, X, *, intercept: bool = False) -> np.ndarray:
        """Rows X as dense float64 features, with the intercept's column of
        ones when asked (the scores of the fairness set add ``b`` apart)."""
        F = _dense_features(self._features(X))
        if intercept and self._intercept:
            F = np.hstack([F, np.ones((len(F), 1))])
        return F

    def design(self, X) -> np.ndarray:
        """Rows X as the model's design matrix.

        Dense float64 features with a last column of ones when the model
        fits an intercept, so that ``design(X) @ theta`` are its decision
        scores.
        """
        return self._design(X, intercept=True)

    def influence(self, X, gradients, y_codes=None) -> tuple[np.ndarray, np.ndarray]:
        r"""First-order change of objectives of the model after labeling each row.

        For objectives :math:`L_k(\theta)` with gradients :math:`g_k` at the
        fitted :math:`\theta`, adding the row :math:`(x, y)` to the labeled
        set (up-weighting it from 0 to 1) changes them, to first order, by
        the influence function of Koh and Liang (2017),

        .. math:: I_k(x, y) = -g_k^\top H^{-1} \nabla_\theta \ell(x, y)
                  = (y - p(x))\, \tilde x^\top H^{-1} g_k,

        the exact derivative at weight 0 of the refit's objectives. One solve
        for all objectives, then one product per block of rows: about the
        cost of a ``predict_proba``. Unlike :meth:`steps`, it is not damped
        by the row's own curvature: that rescales a row's influences by one
        positive factor and costs a quadratic form per row.

        Parameters
        ----------
        X : array-like, sparse matrix or DataFrame of shape (n_rows, ...)
            Rows as the learner takes them.
        gradients : array-like of shape (n_params,) or (n_params, n_objectives)
            :math:`g_k`, in the order of ``theta``.
        y_codes : array-like of shape (n_rows,), default=None
            The labels (0 or 1) the rows would get; None takes the model's
            own prediction (a proxy for a label not yet known).

        Returns
        -------
        influence : ndarray of shape (n_rows,) or (n_rows, n_objectives)
            :math:`I_k`, one column per objective (1-D for 1-D gradients).
        p : ndarray of shape (n_rows,)
            The model's current probability of class 1 for each row.
        """
        G = np.asarray(gradients, dtype=np.float64)
        one = G.ndim == 1
        # theta and H^{-1} g_k side by side: the scores and every influence
        # come from one product per block of rows.
        V = np.column_stack([self.theta, self._hessian.solve(G.reshape(len(G), -1))])
        n_rows = _n_rows(X)
        out, p = np.empty((n_rows, V.shape[1] - 1)), np.empty(n_rows)
        labels = None if y_codes is None else np.asarray(y_codes, dtype=np.float64)
        for lo in range(0, n_rows, _DESIGN_ROWS):
            S = self.design(take_rows(X, slice(lo, lo + _DESIGN_ROWS))) @ V
            hi = lo + len(S)
            p[lo:hi] = _sigmoid(S[:, 0])
            # The model predicts class 1 for a positive score (sklearn's rule).
            y = (S[:, 0] > 0) if labels is None else labels[lo:hi]
            out[lo:hi] = (y - p[lo:hi])[:, None] * S[:, 1:]
        return (out[:, 0] if one else out), p

    def _steps_of(self, X_u: np.ndarray):
        """Damped steps and probabilities of designed rows (intercept included)."""
        V = self._hessian.solve(X_u.T)
        p = _sigmoid(X_u @ self.theta)
        leverage = np.einsum("ij,ji->i", X_u, V)
        return V / (1.0 + p * (1 - p) * leverage), p

    def steps(self, X):
        """The damped Newton step of labeling each row of X.

        Parameters
        ----------
        X : array-like, sparse matrix or DataFrame of shape (n_rows, ...)
            Rows as the learner takes them.

        Returns
        -------
        u : ndarray of shape (n_params, n_rows)
            Labeling row ``j`` with ``y`` moves ``theta`` by
            ``(y - p[j]) * u[:, j]``.
        p : ndarray of shape (n_rows,)
            The model's current probability of class 1 for each row.
        """
        return self._steps_of(self._design(X, intercept=True))

    def unfairness(
        self,
        X_candidates,
        X_fair,
        sensitive_features,
        y_codes=None,
        *,
        metric: str = "demographic_parity",
        progress=None,
    ) -> np.ndarray:
        """Disparity on a fairness set after labeling each candidate 0 or 1.

        Each fairness row gets its updated score :math:`\\theta^\\top \\tilde
        x_c + \\tilde x_c^\\top \\Delta(x, y)` and its *hard* prediction
        from it; the disparity is that of those predictions. All candidates
        and both labels are a few matrix products, in blocks of about
        ``2**18`` score changes (bounded memory). A fairness row farther
        from the boundary than any candidate of a block can move it (a
        Cauchy-Schwarz bound, so the result is exact) keeps its prediction
        and is counted once; only rows near the boundary enter the products.

        Parameters
        ----------
        X_candidates : array-like, sparse matrix or DataFrame of shape \
                (n_candidates, ...)
            The rows that could be labeled, as the learner takes them.
        X_fair : array-like, sparse matrix or DataFrame of shape (n_fair, ...)
            The fairness set's rows.
        sensitive_features : array-like of shape (n_fair,) or GroupEncoding
            Their groups.
        y_codes : array-like of shape (n_fair,), default=None
            Their class codes (0 or 1), needed by the metrics that compare
            rates within a class.
        metric : {"demographic_parity", "equalized_odds", \
                "error_rate_balance"}, default="demographic_parity"
        progress : callable or None, default=None
            Called with the number of candidates done after each block.

        Returns
        -------
        unfairness : ndarray of shape (n_candidates, 2)
            Column ``y``: the disparity after labeling the candidate ``y``.
        """
        if not isinstance(sensitive_features, GroupEncoding):
            sensitive_features = check_sensitive_features(
                sensitive_features, _n_rows(X_fair), name="sensitive_features"
            )
        codes = sensitive_features.codes
        cells = FairnessCells.of(codes, y_codes, metric)
        n_fair = len(codes)
        n_cand = _n_rows(X_candidates)
        w, b, d = self._w, self._b, len(self.theta)
        # One pass over the fairness set for its scores and row norms, in
        # slices: it is never designed whole unless small.
        score, norm = np.empty(n_fair), np.empty(n_fair)
        keep = n_fair * d <= _KEEP_DESIGN
        designs = []
        for lo in range(0, n_fair, _DESIGN_ROWS):
            X_c = self._design(take_rows(X_fair, slice(lo, lo + _DESIGN_ROWS)))
            score[lo : lo + len(X_c)] = X_c @ w + b
            norm[lo : lo + len(X_c)] = np.sqrt(np.einsum("ij,ij->i", X_c, X_c))
            if keep:
                designs.append(X_c)
        X_c_all = np.concatenate(designs) if keep else None
        block = max(1, min(n_cand, _FAST_BLOCK // min(max(n_fair, 1), 2048)))
        step = max(1, _FAST_BLOCK // block)
        out = np.empty((n_cand, 2))
        n_cells = len(cells.present)
        for lo in range(0, n_cand, block):
            X_u = self._design(
                take_rows(X_candidates, slice(lo, lo + block)), intercept=True
            )
            U, p_u = self._steps_of(X_u)
            U_w, U_b = U[: len(w)], (U[-1] if self._intercept else 0.0)
            # The score change of fairness row c is (y - p) (x_c . U_w + U_b),
            # at most reach_w |x_c| + reach_b: a row farther from 0 keeps its
            # prediction for every candidate and label of the block. (At 1e5
            # rows that is all but a few percent of them.)
            slope = np.maximum(p_u, 1 - p_u)
            reach_w = (slope * np.linalg.norm(U_w, axis=0)).max()
            reach_b = (slope * np.abs(U_b)).max()
            # The slack covers rounding: a pruned row compares as the full
            # product would, not just nearly.
            near = np.abs(score) <= (reach_w * norm + reach_b) * (1 + 1e-6)
            far_positive = np.bincount(
                cells.cells[~near], weights=score[~near] > 0, minlength=n_cells
            )
            positives = np.empty((n_cells, 2, len(p_u)), dtype=np.intp)
            positives[...] = far_positive.astype(np.intp)[:, None, None]
            rows_near = np.flatnonzero(near)
            for start in range(0, len(rows_near), step):
                rows = rows_near[start : start + step]
                X_c = X_c_all[rows] if keep else self._design(take_rows(X_fair, rows))
                # Both labels scale one product, computed once: a row is
                # positive iff its score change passes minus its score.
                change = X_c @ U_w + U_b
                threshold = -score[rows][:, None]
                row_cells = cells.cells[rows]
                in_cell = [row_cells == cell for cell in range(n_cells)]
                for label in (0, 1):
                    positive = change * (label - p_u) > threshold
                    for cell, mask in enumerate(in_cell):
                        positives[cell, label] += np.count_nonzero(
                            positive[mask], axis=0
                        )
            for label in (0, 1):
                out[lo : lo + len(p_u), label] = cells.gap(positives[:, label])
            if progress is not None:
                progress(len(p_u))
        return out


def _n_rows(X) -> int:
    return X.shape[0] if hasattr(X, "shape") else len(X)
