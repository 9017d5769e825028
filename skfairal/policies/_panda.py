"""PANDA: a meta-learned, parity-constrained selection policy (Sharaf et al. 2022).

This module imports torch; :mod:`skfairal.policies` loads it on first use. Its
query-strategy face is :class:`skfairal.query.PANDASampling`.
"""

import math
import time
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _num_samples, check_array, check_is_fitted
from torch import nn

from ..utils import check_sensitive_features, column_mean_and_scale, select_top_k
from ._panda_file import PolicyFileMixin
from ._panda_inner import ImplicitLogistic, UnrolledLogistic
from ._panda_modules import (
    RowEncoder,
    SelectionPolicy,
    content_order,
    meta_train,
    pretrain,
)

# Rows standardised and pushed through the row encoder at once (bounded
# memory: a sparse or float64 pool is densified or converted a batch at a time).
_ROW_BATCH = 65536


def _dense_batches(X, dtype=None):
    """Dense rows of X (``dtype`` if given), ``_ROW_BATCH`` rows at a time."""
    for start in range(0, X.shape[0], _ROW_BATCH):
        rows = X[start : start + _ROW_BATCH]
        rows = rows.toarray() if sp.issparse(rows) else rows
        yield rows if dtype is None else np.asarray(rows, dtype=dtype)


class PANDAPolicy(PolicyFileMixin, TransformerMixin, BaseEstimator):
    """PANDA: a Transformer selection policy meta-learned under a parity constraint.

    The method of Sharaf, Daume III and Ni (*Promoting Fairness in Learned
    Models by Learning to Active Learn under Parity Constraints*, FAccT
    2022). :meth:`fit` learns, from a labeled set ``D`` with its groups, a
    policy that picks the ``budget`` pool rows whose labels give a fair and
    accurate classifier; at query time one forward pass over the pool picks
    them, with no classifier in the loop and **no sensitive features**.

    **Fit** (:doc:`/user_guide/panda` tells it at length). (a) A row
    representation ``phi(x)`` (a two-layer perceptron) and a set encoder are
    pretrained on ``D`` with a supervised loss. (b) Meta-training (the
    paper's Algorithm 1), ``n_meta_iter`` times: ``D`` is reshuffled into a
    pool (labels hidden from the policy) and a validation set; the policy
    (the set encoder, no positional encoding, then a linear layer) gives one
    logit per pool row; a relaxed Gumbel-top-``b`` draw softly selects ``b
    = min(budget, meta_pool_size / 4)`` rows; the inner classifier is
    trained on them with those weights. The *forward step* is one Adam step
    of the policy against the inner classifier's validation log loss; when
    the validation disparity exceeds ``threshold``, the *proximal step*
    takes ``prox_steps`` Adam steps on a smoothed characteristic function of
    the constraint (``100 * Delta * sigmoid((Delta - threshold) / (threshold
    / 10))``, ``Delta`` a differentiable surrogate of the disparity) plus
    ``||theta - theta_hat||^2 / 2``. ``history_`` records the real,
    hard-prediction disparity.

    **The inner classifier** (``inner``). ``"implicit"`` (the default) is
    the model the user fits: an L2-regularised logistic regression with
    scikit-learn's objective (``C``, ``fit_intercept``, ``class_weight``) on
    the rows as given, solved to convergence by Newton's method; the
    gradient of the validation terms in the selection weights comes from
    the implicit function theorem at the optimum (one Hessian solve, by
    conjugate gradients above 512 features), with no unrolling.
    ``"unrolled"`` is the paper's: a linear classifier on ``phi(x)`` (scaled
    by ``1 / sqrt(d_model)``) starting from zero and taking ``inner_steps``
    differentiable SGD steps of ``inner_lr``. :meth:`make_classifier`
    returns the matching scikit-learn estimator. For a base estimator that
    is not a logistic regression, the implicit policy is trained for the
    logistic surrogate; :doc:`/user_guide/panda` measures how its picks
    transfer.

    **Select.** :meth:`select` scores the pool with the policy and draws
    rows by Gumbel-top-``n`` sampling, as in training, the noise dealt out in
    an order set by the rows' content: the picks do not depend on the pool's
    order. The set encoder is a stack of Set Transformer ISABs (Lee et al.
    2019): ``n_inducing`` learned points summarise the whole pool and every
    row attends to the summary, so time and memory grow linearly with the
    pool, which is scored as one set. As the query strategy of a
    :class:`~skfairal.FairActiveClassifier`, a policy goes in
    :class:`skfairal.query.PANDASampling` (``query_strategy="panda"``).

    Binary labels; numeric features, dense or sparse (standardised
    internally for the policy, a batch of rows at a time).

    Parameters
    ----------
    budget : int, default=400
        Rows the policy is trained to select (the meta-tasks' share, and the
        default of :meth:`select`).
    constraint : {"demographic_parity", "error_rate_balance"}, \
            default="demographic_parity"
        The parity constraint.
    threshold : float, default=0.04
        ``rho``: the largest disparity the constraint allows.
    inner : {"implicit", "unrolled"}, default="implicit"
        The inner classifier: a converged L2 logistic regression
        differentiated implicitly, or a few unrolled SGD steps (the paper's).
    C : float, default=1.0
        Inverse regularisation strength of the implicit inner classifier, as
        in ``LogisticRegression``.
    fit_intercept : bool, default=True
        Whether the implicit inner classifier has an (unpenalised)
        intercept.
    class_weight : dict, "balanced" or None, default=None
        Weights of the labels' rows in the implicit inner classifier, as in
        ``LogisticRegression`` (a dict is keyed by the labels of ``y``).
    d_model, n_heads, n_layers : int, default=32, 4, 2
        Width of the representation, attention heads and encoder layers.
    n_inducing : int, default=16
        Inducing points of each ISAB layer: the size of the summary of the
        pool that every row attends to.
    inner_steps : int, default=5
        Unrolled SGD steps of the inner classifier (``inner="unrolled"``).
    inner_lr : float, default=2.0
        Their step size (on features scaled by ``1 / sqrt(d_model)``).
    meta_lr : float, default=3e-3
        Adam step size of the forward and proximal steps.
    n_meta_iter : int, default=200
        Meta-training iterations (meta-tasks).
    prox_steps : int, default=3
        Proximal steps per iteration (only when the constraint is violated).
    temperature : float, default=1.0
        Temperature of the relaxed top-b selection.
    pretrain_epochs : int, default=10
        Epochs of supervised pretraining on ``D``.
    meta_pool_size : int, default=8192
        Pool size of a meta-task (at most ``D`` less its validation set, a
        third of ``D`` up to 1,024 rows).
    device : str, default="cpu"
        Torch device of the fit.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights and the meta-tasks, and the Gumbel noise of
        :meth:`select` when it is given no seed of its own: identical seeds
        give identical policies and selections.
    verbose : int, default=0
        Above 0, a progress bar shows the loss, the validation disparity and
        whether the constraint holds.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        The class labels of ``D``.
    n_features_in_ : int
        Number of features.
    history_ : list of dict
        One entry per meta-iteration: ``loss`` (validation loss), ``disparity``
        (validation disparity of the inner classifier), ``satisfied``
        (disparity <= threshold) and ``seconds`` since the start of
        meta-training.
    pretrain_seconds_, meta_train_seconds_ : float
        Duration of the two phases of :meth:`fit`.

    Examples
    --------
    >>> from skfairal.datasets import make_biased_classification
    >>> from skfairal.policies import PANDAPolicy
    >>> X, y, g = make_biased_classification(300, random_state=0)
    >>> policy = PANDAPolicy(
    ...     budget=20, n_meta_iter=5, pretrain_epochs=2, random_state=0
    ... )
    >>> policy = policy.fit(X[:200], y[:200], sensitive_features=g[:200])
    >>> picks = policy.select(X[200:])  # no groups needed
    >>> len(picks), policy.transform(X[:3]).shape
    (20, (3, 32))
    """

    _parameter_constraints = {
        "budget": [Interval(Integral, 1, None, closed="left")],
        "constraint": [StrOptions({"demographic_parity", "error_rate_balance"})],
        "threshold": [Interval(Real, 0, 1, closed="both")],
        "inner": [StrOptions({"implicit", "unrolled"})],
        "C": [Interval(Real, 0, None, closed="neither")],
        "fit_intercept": ["boolean"],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "d_model": [Interval(Integral, 1, None, closed="left")],
        "n_heads": [Interval(Integral, 1, None, closed="left")],
        "n_layers": [Interval(Integral, 1, None, closed="left")],
        "n_inducing": [Interval(Integral, 1, None, closed="left")],
        "inner_steps": [Interval(Integral, 1, None, closed="left")],
        "inner_lr": [Interval(Real, 0, None, closed="neither")],
        "meta_lr": [Interval(Real, 0, None, closed="neither")],
        "n_meta_iter": [Interval(Integral, 0, None, closed="left")],
        "prox_steps": [Interval(Integral, 0, None, closed="left")],
        "temperature": [Interval(Real, 0, None, closed="neither")],
        "pretrain_epochs": [Interval(Integral, 0, None, closed="left")],
        "meta_pool_size": [Interval(Integral, 2, None, closed="left")],
        "device": [str],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        budget: int = 400,
        constraint: str = "demographic_parity",
        threshold: float = 0.04,
        inner: str = "implicit",
        C: float = 1.0,
        fit_intercept: bool = True,
        class_weight=None,
        d_model: int = 32,
        n_heads: int = 4,
        n_layers: int = 2,
        n_inducing: int = 16,
        inner_steps: int = 5,
        inner_lr: float = 2.0,
        meta_lr: float = 3e-3,
        n_meta_iter: int = 200,
        prox_steps: int = 3,
        temperature: float = 1.0,
        pretrain_epochs: int = 10,
        meta_pool_size: int = 8192,
        device: str = "cpu",
        random_state=None,
        verbose: int = 0,
    ):
        self.budget = budget
        self.constraint = constraint
        self.threshold = threshold
        self.inner = inner
        self.C = C
        self.fit_intercept = fit_intercept
        self.class_weight = class_weight
        self.d_model = d_model
        self.n_heads = n_heads
        self.n_layers = n_layers
        self.n_inducing = n_inducing
        self.inner_steps = inner_steps
        self.inner_lr = inner_lr
        self.meta_lr = meta_lr
        self.n_meta_iter = n_meta_iter
        self.prox_steps = prox_steps
        self.temperature = temperature
        self.pretrain_epochs = pretrain_epochs
        self.meta_pool_size = meta_pool_size
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # -- fitting ----------------------------------------------------------------

    def _check_fit_inputs(self, X, y, sensitive_features):
        self._validate_params()
        if self.d_model % self.n_heads:
            raise ValueError(
                f"d_model={self.d_model} must be a multiple of n_heads={self.n_heads}."
            )
        X = check_array(X, accept_sparse="csr", dtype=(np.float64, np.float32))
        n_samples = X.shape[0]
        if y is None:
            raise ValueError("PANDAPolicy.fit needs y, the labels of D.")
        y = np.asarray(y)
        if y.ndim != 1 or len(y) != n_samples:
            raise ValueError(
                f"y must hold one label per row of X ({n_samples} rows), got shape "
                f"{y.shape}."
            )
        encoder = LabelEncoder().fit(y)
        if len(encoder.classes_) != 2:
            raise ValueError(
                "PANDA needs binary labels; y has "
                f"{len(encoder.classes_)} class(es): {encoder.classes_.tolist()}."
            )
        if sensitive_features is None:
            raise ValueError(
                "PANDAPolicy.fit needs sensitive_features: the groups of D's rows "
                "define the parity constraint."
            )
        groups = check_sensitive_features(sensitive_features, n_samples, min_groups=2)
        self._class_weight_codes(encoder.classes_)
        if n_samples < 20:
            raise ValueError(
                f"D has {n_samples} rows; meta-training needs at least 20 to split "
                "into pools and validation sets."
            )
        return X, encoder, groups

    def fit(self, X, y, *, sensitive_features):
        """Pretrain the representation on ``D`` and meta-train the policy.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
            The labeled rows ``D`` (numeric); held as one dense float32
            tensor while training.
        y : array-like of shape (n_samples,)
            Their binary labels.
        sensitive_features : array-like of shape (n_samples,) or (n_samples, k)
            Their groups (at least two).

        Returns
        -------
        self : PANDAPolicy
        """
        X, label_encoder, groups = self._check_fit_inputs(X, y, sensitive_features)
        y_codes = label_encoder.transform(np.asarray(y))
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(2**31 - 1))
        self.classes_ = label_encoder.classes_
        self.n_features_in_ = X.shape[1]
        self.mean_, self.scale_ = column_mean_and_scale(X)
        device = torch.device(self.device)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self._build(device)
            start = time.perf_counter()
            X_t = torch.as_tensor(
                np.concatenate(list(self._standardised_batches(X))), device=device
            )
            y_t = torch.as_tensor(y_codes, device=device)
            pretrain(
                self.row_encoder_,
                self.head_,
                self.policy_,
                X_t,
                y_t,
                rng,
                n_epochs=self.pretrain_epochs,
            )
            self.pretrain_seconds_ = time.perf_counter() - start
            start = time.perf_counter()
            generator = torch.Generator(device=device).manual_seed(seed + 1)
            g_t = torch.as_tensor(groups.codes, device=device)
            with torch.no_grad():
                H = self.row_encoder_(X_t)
            inner = self._inner_learner(X, H, y_t, device)
            del X_t
            self._meta_train(inner, H, y_t, g_t, groups.n_groups, rng, generator)
            self.meta_train_seconds_ = time.perf_counter() - start
        for module in (self.row_encoder_, self.head_, self.policy_):
            module.eval().requires_grad_(False).cpu()
        return self

    def _inner_learner(self, X, H, y, device):
        """The classifier each meta-task trains on its soft picks."""
        if self.inner == "unrolled":
            # Scaled so that its loss's curvature is at most 1/4 whatever
            # d_model: inner_lr then means the same at every width (unscaled,
            # steps of 1 diverge).
            return UnrolledLogistic(
                H / math.sqrt(H.shape[1]),
                y,
                n_steps=self.inner_steps,
                lr=self.inner_lr,
            )
        # The rows as the user's classifier sees them: not standardised, so
        # that C penalises the coefficients it will fit.
        rows = np.concatenate(list(_dense_batches(X, np.float32)))
        return ImplicitLogistic(
            torch.as_tensor(rows, device=device),
            y,
            C=self.C,
            fit_intercept=self.fit_intercept,
            class_weight=self._class_weight_codes(self.classes_),
        )

    def _class_weight_codes(self, classes):
        """``class_weight`` as one weight per label code (or as it is)."""
        if self.class_weight is None or isinstance(self.class_weight, str):
            return self.class_weight
        unknown = set(self.class_weight) - set(classes.tolist())
        if unknown:
            raise ValueError(
                f"class_weight names labels {sorted(unknown, key=str)} that are not "
                f"in y (classes {classes.tolist()})."
            )
        return torch.tensor(
            [float(self.class_weight.get(c, 1.0)) for c in classes.tolist()]
        )

    def _build(self, device) -> None:
        self.row_encoder_ = RowEncoder(self.n_features_in_, self.d_model).to(device)
        self.head_ = nn.Linear(self.d_model, 2).to(device)
        self.policy_ = SelectionPolicy(
            self.d_model, self.n_heads, self.n_layers, self.n_inducing
        ).to(device)

    def _standardised_batches(self, X):
        """Standardised float32 rows of X, ``_ROW_BATCH`` rows at a time."""
        for rows in _dense_batches(X):
            yield ((rows - self.mean_) / self.scale_).astype(np.float32)

    def _meta_sizes(self, n_samples: int) -> tuple[int, int, int]:
        n_val = min(1024, n_samples // 3)
        n_pool = min(self.meta_pool_size, n_samples - n_val)
        # The inner classifier needs about as many rows as it will get at
        # test time, yet a selection must leave most of the pool out.
        return n_val, n_pool, int(np.clip(self.budget, 1, max(1, n_pool // 4)))

    def _meta_train(self, inner, H, y, groups, n_groups, rng, generator) -> None:
        n_val, n_pool, b = self._meta_sizes(len(y))
        self.history_ = meta_train(
            self.policy_,
            inner,
            H,
            y,
            groups,
            rng,
            generator,
            n_groups=n_groups,
            n_val=n_val,
            n_pool=n_pool,
            b=b,
            n_iter=self.n_meta_iter,
            temperature=self.temperature,
            constraint=self.constraint,
            threshold=self.threshold,
            prox_steps=self.prox_steps,
            meta_lr=self.meta_lr,
            verbose=self.verbose,
        )

    # -- using the policy -----------------------------------------------------------

    def _check_X(self, X):
        check_is_fitted(self)
        # Floats and sparse rows stay as they are: _represent converts them a
        # batch at a time, so a large pool is never copied whole.
        X = check_array(X, accept_sparse="csr", dtype=(np.float64, np.float32))
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but PANDAPolicy was fitted with "
                f"{self.n_features_in_}."
            )
        return X

    def _represent(self, X) -> torch.Tensor:
        with torch.no_grad():
            parts = [
                self.row_encoder_(torch.as_tensor(rows))
                for rows in self._standardised_batches(X)
            ]
        return torch.cat(parts) if parts else torch.empty(0, self.d_model)

    def transform(self, X) -> np.ndarray:
        """The pretrained representation ``phi(x)`` of each row.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)

        Returns
        -------
        H : ndarray of shape (n_samples, d_model)
        """
        return self._represent(self._check_X(X)).numpy().astype(np.float64)

    def make_classifier(self):
        """The classifier the policy was meta-trained against (unfitted).

        Returns
        -------
        classifier : LogisticRegression or FewStepLogisticRegression
            With ``inner="implicit"``, scikit-learn's ``LogisticRegression``
            with the policy's ``C``, ``fit_intercept`` and ``class_weight``,
            to fit on the rows as :meth:`select` takes them; with
            ``inner="unrolled"``, ``inner_steps`` gradient steps of
            ``inner_lr`` from zero, to fit on :meth:`transform`'s features.
        """
        if self.inner == "implicit":
            from sklearn.linear_model import LogisticRegression

            return LogisticRegression(
                C=self.C,
                fit_intercept=self.fit_intercept,
                class_weight=self.class_weight,
            )
        from ._few_step import FewStepLogisticRegression

        return FewStepLogisticRegression(
            n_steps=self.inner_steps, learning_rate=self.inner_lr
        )

    def decision_function(self, X_pool) -> np.ndarray:
        """The policy's logit for each pool row (larger: select first).

        Parameters
        ----------
        X_pool : array-like or sparse matrix of shape (n_pool, n_features)

        Returns
        -------
        logits : ndarray of shape (n_pool,)
        """
        H = self._represent(self._check_X(X_pool))
        return self._logits(H)

    def _logits(self, H) -> np.ndarray:
        if len(H) == 0:
            return np.empty(0)
        with torch.no_grad():
            return self.policy_(H, batch_size=_ROW_BATCH).numpy().astype(np.float64)

    def select(self, X_pool, n_instances: int | None = None, *, random_state=None):
        """The ``n_instances`` (default ``budget``) rows of the pool to label.

        The draw is a ranking: its first ``k`` rows are the top ``k`` of the
        same draw.

        Parameters
        ----------
        X_pool : array-like or sparse matrix of shape (n_pool, n_features)
        n_instances : int, default=None
            How many rows; None means ``budget``.
        random_state : int, RandomState instance or None, default=None
            Seed of the Gumbel noise and the tie-breaking; None means the
            policy's ``random_state``.

        Returns
        -------
        indices : ndarray of shape (n_instances,)
            Row indices into ``X_pool``, best first.
        """
        name = "budget" if n_instances is None else "n_instances"
        n = self.budget if n_instances is None else n_instances
        n_pool = _num_samples(X_pool)
        # Checked before the forward pass, which is the costly part.
        if n > n_pool:
            raise ValueError(
                f"{name}={n} is larger than the pool: X_pool has {n_pool} rows."
            )
        H = self._represent(self._check_X(X_pool))
        logits, order = self._logits(H), content_order(H.numpy())
        # Gumbel-top-n: the sampling the policy was trained with. The noise is
        # dealt out in an order fixed by the rows' content, so the selected
        # rows do not depend on the order of the pool.
        rng = check_random_state(
            self.random_state if random_state is None else random_state
        )
        noise = np.empty(len(logits))
        noise[order] = rng.gumbel(size=len(logits))
        return select_top_k(logits + noise, n, random_state=rng)

    # Defined in _panda_file.py; named here so that the API reference, which
    # leaves inherited members out, documents them on the class.
    save = PolicyFileMixin.save
    load = PolicyFileMixin.__dict__["load"]
