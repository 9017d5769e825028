"""PANDA: a meta-learned, parity-constrained selection policy (Sharaf et al. 2022).

This module imports torch; :mod:`skfairal.policies` loads it on first use.
"""

import math
import time
from numbers import Integral, Real
from pathlib import Path

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _num_samples, check_array, check_is_fitted
from torch import nn

from ..utils import check_sensitive_features, select_top_k
from ._panda_modules import (
    RowEncoder,
    SelectionPolicy,
    SetEncoder,
    content_order,
    gumbel_noise,
    hard_group_disparity,
    soft_group_disparity,
    soft_top_k,
)

# Every parameter but the seed (a RandomState cannot be stored weights-only):
# the loaded policy selects and builds its classifier (inner_steps, inner_lr)
# as the saved one did.
_SAVED_PARAMS = (
    "budget", "constraint", "threshold", "d_model", "n_heads", "n_layers",
    "inner_steps", "inner_lr", "meta_lr", "n_meta_iter", "prox_steps",
    "temperature", "pretrain_epochs", "meta_pool_size", "max_set_size", "device",
    "verbose",
)  # fmt: skip
# Rows pushed through the row encoder at once at query time (bounded memory).
_ROW_BATCH = 65536
_SURROGATE_TEMPERATURE = 0.1
# The characteristic function of the constraint set is +inf outside it; its
# smoothing Delta * sigmoid(...) is scaled so that, outside, its gradient
# outweighs the proximity term (unscaled, the proximal steps did not move the
# policy and the disparity never came down).
_CONSTRAINT_SCALE = 100.0


class PANDAPolicy(TransformerMixin, BaseEstimator):
    """PANDA: a Transformer selection policy meta-learned under a parity constraint.

    The method of Sharaf, Daume III and Ni (*Promoting Fairness in Learned
    Models by Learning to Active Learn under Parity Constraints*, FAccT
    2022). :meth:`fit` learns, from a labeled set ``D`` with its groups, a
    policy that picks the ``budget`` pool rows whose labels give a fair and
    accurate classifier; at query time one forward pass over the pool picks
    them, with no classifier in the loop and **no sensitive features**.

    **Fit.** (a) A row representation ``phi(x)`` (a two-layer perceptron)
    and a Transformer encoder over sets of rows are pretrained on ``D``
    with a supervised loss. (b) Meta-training (the paper's Algorithm 1)
    repeats ``n_meta_iter`` times: ``D`` is reshuffled into a pool ``L``
    (labels hidden from the policy) and a validation set ``V``; the policy
    (the pretrained set encoder, with no positional encoding, then a linear
    layer) gives one logit per pool row; a relaxed Gumbel-top-``b`` draw
    (Gumbel noise, then ``sigmoid((z - t) / temperature)`` with ``t`` set
    so the memberships sum to ``b``) softly selects ``b = min(budget,
    meta_pool_size / 4)`` rows; a linear classifier on ``phi`` (the
    classifier of :meth:`make_classifier`) starts from zero and takes
    ``inner_steps`` differentiable SGD steps on the softly selected rows.
    **Forward step**: one Adam step on the policy's parameters against the
    validation loss, through the unrolled SGD. **Proximal (backward) step**:
    when the validation disparity exceeds ``threshold``, ``prox_steps`` Adam
    steps on the smoothed characteristic function of the constraint
    (``100 * Delta * sigmoid((Delta - threshold) / (threshold / 10))``: about
    0 below the threshold, large above, as the characteristic function is 0
    inside the constraint set and infinite outside) plus ``||theta -
    theta_hat||^2 / 2``. ``Delta`` is a differentiable surrogate: the spread
    of the groups' mean positive probability (demographic parity) or mean
    probability of the wrong class (error-rate balance), from probabilities
    sharpened by a temperature of 0.1 so that it tracks the hard
    predictions; ``history_`` records the real, hard-prediction disparity.

    Two choices differ from a literal reading of the paper, both measured:
    the inner classifier starts from zero rather than from the pretrained
    head (from the head, a few steps on any selection barely moved the
    disparity), and its features are scaled by ``1 / sqrt(d_model)``
    (unscaled, steps of 1 diverged).

    **Query.** Used as a strategy (``FairActiveClassifier(query_strategy=
    policy)`` or ``query_strategy="panda"``), it scores the pool with the
    policy and draws the ``n_instances`` rows by Gumbel-top-``n`` sampling,
    as in training, with the noise dealt out in an order set by the rows'
    content: the selection does not depend on the order of the pool. An
    unfitted policy meta-trains on the learner's labeled rows (with their
    sensitive features) at its first query. Pools of up to ``max_set_size``
    rows are encoded as one set; a larger pool is cut into chunks of at most
    ``max_set_size`` rows, formed after sorting the rows by their
    representation (so the chunks, too, do not depend on the pool's order),
    and attention stays within a chunk: memory grows linearly with the
    pool, ``max_set_size ** 2 * n_heads`` floats per layer at most.

    **The classifier.** The policy is trained for the classifier of
    :meth:`make_classifier` (a :class:`FewStepLogisticRegression` with
    ``inner_steps`` steps of ``inner_lr``) on :meth:`transform`'s features:
    use that pair downstream (a pipeline of the policy and
    ``policy.make_classifier()`` as the learner's estimator), as the paper
    fine-tunes the final layer for every strategy.

    **transform(X)** returns ``phi(x)``: give a pipeline's classifier the
    representation the policy sees, as the paper gives every strategy.

    Binary labels; numeric features (standardised internally).

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
    d_model, n_heads, n_layers : int, default=32, 4, 2
        Width of the representation, attention heads and encoder layers.
    inner_steps : int, default=5
        Unrolled SGD steps of the inner classifier.
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
    meta_pool_size : int, default=512
        Pool size of a meta-task (at most ``2 / 3`` of ``D``; the rest, up to
        512 rows, is its validation set).
    max_set_size : int or None, default=None
        Largest set encoded with full attention at query time; None means
        ``meta_pool_size``, the size of the sets the policy was trained on.
        Attention costs grow with it: on one core, a query over 1e5 rows
        takes about 1.3 s with sets of 512 and 2 s with sets of 1,024
        (``benchmarks/scale.py``).
    device : str, default="cpu"
        Torch device of the fit.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights, the meta-tasks and the Gumbel noise:
        identical seeds give identical policies and selections.
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
        "d_model": [Interval(Integral, 1, None, closed="left")],
        "n_heads": [Interval(Integral, 1, None, closed="left")],
        "n_layers": [Interval(Integral, 1, None, closed="left")],
        "inner_steps": [Interval(Integral, 1, None, closed="left")],
        "inner_lr": [Interval(Real, 0, None, closed="neither")],
        "meta_lr": [Interval(Real, 0, None, closed="neither")],
        "n_meta_iter": [Interval(Integral, 0, None, closed="left")],
        "prox_steps": [Interval(Integral, 0, None, closed="left")],
        "temperature": [Interval(Real, 0, None, closed="neither")],
        "pretrain_epochs": [Interval(Integral, 0, None, closed="left")],
        "meta_pool_size": [Interval(Integral, 2, None, closed="left")],
        "max_set_size": [Interval(Integral, 1, None, closed="left"), None],
        "device": [str],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        budget: int = 400,
        constraint: str = "demographic_parity",
        threshold: float = 0.04,
        d_model: int = 32,
        n_heads: int = 4,
        n_layers: int = 2,
        inner_steps: int = 5,
        inner_lr: float = 2.0,
        meta_lr: float = 3e-3,
        n_meta_iter: int = 200,
        prox_steps: int = 3,
        temperature: float = 1.0,
        pretrain_epochs: int = 10,
        meta_pool_size: int = 512,
        max_set_size: int | None = None,
        device: str = "cpu",
        random_state=None,
        verbose: int = 0,
    ):
        self.budget = budget
        self.constraint = constraint
        self.threshold = threshold
        self.d_model = d_model
        self.n_heads = n_heads
        self.n_layers = n_layers
        self.inner_steps = inner_steps
        self.inner_lr = inner_lr
        self.meta_lr = meta_lr
        self.n_meta_iter = n_meta_iter
        self.prox_steps = prox_steps
        self.temperature = temperature
        self.pretrain_epochs = pretrain_epochs
        self.meta_pool_size = meta_pool_size
        self.max_set_size = max_set_size
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
        X = check_array(X, dtype=np.float32)
        if y is None:
            raise ValueError("PANDAPolicy.fit needs y, the labels of D.")
        y = np.asarray(y)
        if y.ndim != 1 or len(y) != len(X):
            raise ValueError(
                f"y must hold one label per row of X ({len(X)} rows), got shape "
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
        groups = check_sensitive_features(sensitive_features, len(X), min_groups=2)
        if len(X) < 20:
            raise ValueError(
                f"D has {len(X)} rows; meta-training needs at least 20 to split "
                "into pools and validation sets."
            )
        return X, encoder, groups

    def fit(self, X, y, *, sensitive_features):
        """Pretrain the representation on ``D`` and meta-train the policy.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The labeled rows ``D`` (numeric).
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
        mean = X.mean(0)
        scale = X.std(0)
        self.mean_, self.scale_ = mean, np.where(scale > 0, scale, 1.0)
        device = torch.device(self.device)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self._build(device)
            start = time.perf_counter()
            X_t = torch.as_tensor(self._standardise(X), device=device)
            y_t = torch.as_tensor(y_codes, device=device)
            self._pretrain(X_t, y_t, rng)
            self.pretrain_seconds_ = time.perf_counter() - start
            start = time.perf_counter()
            generator = torch.Generator(device=device).manual_seed(seed + 1)
            g_t = torch.as_tensor(groups.codes, device=device)
            self._meta_train(X_t, y_t, g_t, groups.n_groups, rng, generator)
            self.meta_train_seconds_ = time.perf_counter() - start
        for module in (self.row_encoder_, self.head_, self.policy_):
            module.eval().requires_grad_(False).cpu()
        return self

    def _build(self, device) -> None:
        self.row_encoder_ = RowEncoder(self.n_features_in_, self.d_model).to(device)
        self.head_ = nn.Linear(self.d_model, 2).to(device)
        self.policy_ = SelectionPolicy(self.d_model, self.n_heads, self.n_layers).to(
            device
        )

    def _standardise(self, X) -> np.ndarray:
        return ((X - self.mean_) / self.scale_).astype(np.float32)

    def _pretrain(self, X, y, rng) -> None:
        """Supervised pretraining of phi, its head and the set encoder on D."""
        context = SetEncoder(self.d_model, self.n_heads, self.n_layers).to(X.device)
        context_head = nn.Linear(self.d_model, 2).to(X.device)
        modules = [self.row_encoder_, self.head_, context, context_head]
        params = [p for m in modules for p in m.parameters()]
        optimizer = torch.optim.Adam(params, lr=3e-3)
        loss = nn.CrossEntropyLoss()
        batch = min(256, len(y))
        for _ in range(self.pretrain_epochs):
            order = rng.permutation(len(y))
            for start in range(0, len(y) - batch + 1, batch):
                rows = torch.as_tensor(order[start : start + batch], device=X.device)
                H = self.row_encoder_(X[rows])
                # The set encoder learns on sets of rows, as it will see pools.
                value = loss(self.head_(H), y[rows]) + loss(
                    context_head(context(H)), y[rows]
                )
                optimizer.zero_grad()
                value.backward()
                optimizer.step()
        self.policy_.encoder.load_state_dict(context.state_dict())

    def _meta_sizes(self, n_samples: int) -> tuple[int, int, int]:
        n_val = min(512, n_samples // 3)
        n_pool = min(self.meta_pool_size, n_samples - n_val)
        # The inner classifier needs about as many rows as it will get at
        # test time, yet a selection must leave most of the pool out.
        return n_val, n_pool, int(np.clip(self.budget, 1, max(1, n_pool // 4)))

    def _meta_train(self, X, y, groups, n_groups, rng, generator) -> None:
        with torch.no_grad():
            H = self.row_encoder_(X)
            # The inner classifier's features, scaled so that its loss's
            # curvature is at most 1/4 whatever d_model: inner_lr then means
            # the same at every width (unscaled, steps of 1 diverge).
            H_inner = H / math.sqrt(self.d_model)
        w0 = torch.zeros(2, self.d_model, device=X.device)
        b0 = torch.zeros(2, device=X.device)
        n_val, n_pool, b = self._meta_sizes(len(y))
        params = list(self.policy_.parameters())
        forward = torch.optim.Adam(params, lr=self.meta_lr)
        cross_entropy = nn.CrossEntropyLoss()
        sharpness = max(self.threshold / 10, 1e-4)

        def task_terms(pool, val, noise):
            # The logits' scale is the policy's to learn: a large one makes the
            # draw nearly deterministic, a small one nearly uniform.
            scores = self.policy_(H[pool]) + noise
            weights = soft_top_k(scores, b, self.temperature)
            w, bias = w0.clone().requires_grad_(), b0.clone().requires_grad_()
            for _ in range(self.inner_steps):
                losses = nn.functional.cross_entropy(
                    H_inner[pool] @ w.T + bias, y[pool], reduction="none"
                )
                inner = (weights * losses).sum() / weights.sum()
                grad_w, grad_b = torch.autograd.grad(
                    inner, (w, bias), create_graph=True
                )
                w, bias = w - self.inner_lr * grad_w, bias - self.inner_lr * grad_b
            logits = H_inner[val] @ w.T + bias
            # Sharpened: a few steps from zero leave the inner classifier
            # unsure, and plain probabilities would show a far smaller
            # disparity than its predictions have.
            proba = torch.softmax(logits / _SURROGATE_TEMPERATURE, dim=1)[:, 1]
            soft = soft_group_disparity(
                proba, y[val], groups[val], n_groups, self.constraint
            )
            return cross_entropy(logits, y[val]), soft, logits

        self.history_ = []
        iterations = range(self.n_meta_iter)
        bar = None
        if self.verbose:
            from tqdm.auto import tqdm

            bar = iterations = tqdm(iterations, desc="PANDA meta-training")
        start = time.perf_counter()
        for _ in iterations:
            order = rng.permutation(len(y))
            val = torch.as_tensor(order[:n_val], device=X.device)
            pool = torch.as_tensor(order[n_val : n_val + n_pool], device=X.device)
            noise = gumbel_noise((n_pool,), generator).to(X.device)
            loss, soft, logits = task_terms(pool, val, noise)
            forward.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            forward.step()
            disparity = hard_group_disparity(
                logits.argmax(1).cpu(), y[val].cpu(), groups[val].cpu(), self.constraint
            )
            if disparity > self.threshold:
                anchor = [p.detach().clone() for p in params]
                # A fresh optimiser per proximal problem: moments carried over
                # from earlier, spikier tasks would shrink its steps to nothing.
                proximal = torch.optim.Adam(params, lr=self.meta_lr)
                for _ in range(self.prox_steps):
                    _, soft, _ = task_terms(pool, val, noise)
                    smooth = (
                        _CONSTRAINT_SCALE
                        * soft
                        * torch.sigmoid((soft - self.threshold) / sharpness)
                    )
                    distance = sum(((p - a) ** 2).sum() for p, a in zip(params, anchor))
                    proximal.zero_grad()
                    (smooth + distance / 2).backward()
                    torch.nn.utils.clip_grad_norm_(params, 1.0)
                    proximal.step()
            entry = {
                "loss": float(loss.detach()),
                "disparity": disparity,
                "satisfied": disparity <= self.threshold,
                "seconds": time.perf_counter() - start,
            }
            self.history_.append(entry)
            if bar is not None:
                bar.set_postfix(
                    loss=f"{entry['loss']:.3f}",
                    disparity=f"{disparity:.3f}",
                    ok=entry["satisfied"],
                )

    # -- using the policy -----------------------------------------------------------

    def _check_X(self, X) -> np.ndarray:
        check_is_fitted(self)
        # Floats stay as they are: _represent converts and standardises a
        # batch at a time, so a large pool is never copied whole (at 1e6 x
        # 100 the float32 copy and its float64 standardisation took 1.1 GB).
        X = check_array(X, dtype=(np.float64, np.float32))
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but PANDAPolicy was fitted with "
                f"{self.n_features_in_}."
            )
        return X

    def _represent(self, X) -> torch.Tensor:
        with torch.no_grad():
            parts = [
                self.row_encoder_(
                    torch.as_tensor(
                        self._standardise(X[i : i + _ROW_BATCH].astype(np.float32))
                    )
                )
                for i in range(0, len(X), _ROW_BATCH)
            ]
        return torch.cat(parts) if parts else torch.empty(0, self.d_model)

    def _set_size(self) -> int:
        if self.max_set_size is None:
            return self.meta_pool_size
        return self.max_set_size

    def transform(self, X) -> np.ndarray:
        """The pretrained representation ``phi(x)`` of each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        H : ndarray of shape (n_samples, d_model)
        """
        return self._represent(self._check_X(X)).numpy().astype(np.float64)

    def make_classifier(self):
        """The classifier the policy was meta-trained against (unfitted).

        Returns
        -------
        classifier : FewStepLogisticRegression
            ``inner_steps`` gradient steps of ``inner_lr`` from zero.
        """
        from ._few_step import FewStepLogisticRegression

        return FewStepLogisticRegression(
            n_steps=self.inner_steps, learning_rate=self.inner_lr
        )

    def decision_function(self, X_pool) -> np.ndarray:
        """The policy's logit for each pool row (larger: select first).

        Parameters
        ----------
        X_pool : array-like of shape (n_pool, n_features)

        Returns
        -------
        logits : ndarray of shape (n_pool,)
        """
        return self._logits_and_order(X_pool, with_order=False)[0]

    def _logits_and_order(self, X_pool, *, with_order: bool = True):
        """The policy's logits, and the content order of the rows when asked
        for or needed (a pool larger than ``max_set_size`` is chunked in it)."""
        H = self._represent(self._check_X(X_pool))
        n_pool = len(H)
        if n_pool <= self._set_size():
            order = content_order(H.numpy()) if with_order else None
            with torch.no_grad():
                return self.policy_(H).numpy().astype(np.float64), order
        order = content_order(H.numpy())
        logits = np.empty(n_pool)
        n_chunks = math.ceil(n_pool / self._set_size())
        with torch.no_grad():
            for chunk in np.array_split(order, n_chunks):
                logits[chunk] = self.policy_(H[torch.as_tensor(chunk)]).numpy()
        return logits, order

    def select(self, X_pool, n_instances: int | None = None, *, random_state=None):
        """The ``n_instances`` (default ``budget``) rows of the pool to label.

        Parameters
        ----------
        X_pool : array-like of shape (n_pool, n_features)
        n_instances : int, default=None
            How many rows; None means ``budget``.
        random_state : int, RandomState instance or None, default=None
            Seed of the tie-breaking.

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
        logits, order = self._logits_and_order(X_pool)
        # Gumbel-top-n: the sampling the policy was trained with. The noise is
        # dealt out in an order fixed by the rows' content, so the selected
        # rows do not depend on the order of the pool.
        rng = check_random_state(random_state)
        noise = np.empty(len(logits))
        noise[order] = rng.gumbel(size=len(logits))
        return select_top_k(logits + noise, n, random_state=rng)

    def __call__(
        self,
        learner,
        X_pool,
        n_instances: int = 1,
        *,
        sensitive_features=None,
        random_state=None,
    ) -> np.ndarray:
        """Query ``n_instances`` pool rows in one forward pass (a strategy).

        An unfitted policy first meta-trains on the learner's labeled rows.
        ``sensitive_features`` of the pool are not used.

        Parameters
        ----------
        learner : FairActiveClassifier
            Fitted; its labeled rows and their groups train an unfitted policy.
        X_pool : array-like of shape (n_pool, n_features)
        n_instances : int, default=1
        sensitive_features : ignored
        random_state : int, RandomState instance or None, default=None
            Seed of the tie-breaking.

        Returns
        -------
        indices : ndarray of shape (n_instances,)
        """
        from ..query._base import check_query_args

        check_query_args(learner, X_pool, n_instances)
        if not hasattr(self, "policy_"):
            groups = getattr(learner, "sensitive_features_labeled_", None)
            if groups is None:
                raise ValueError(
                    "an unfitted PANDAPolicy meta-trains on the learner's labeled "
                    "rows and needs their sensitive_features (pass them to the "
                    "learner's fit), or fit the policy first."
                )
            self.fit(learner.X_labeled_, learner.y_labeled_, sensitive_features=groups)
        return self.select(X_pool, n_instances, random_state=random_state)

    # -- saving -----------------------------------------------------------------

    def save(self, path) -> None:
        """Write the fitted policy to ``path`` (tensors and plain values only).

        Load it with :meth:`load`, which reads it with
        ``torch.load(weights_only=True)``: no arbitrary object is unpickled.
        """
        check_is_fitted(self)
        state = {
            "params": {k: getattr(self, k) for k in _SAVED_PARAMS},
            "n_features_in": self.n_features_in_,
            "classes": self.classes_.tolist(),
            "mean": torch.as_tensor(self.mean_),
            "scale": torch.as_tensor(self.scale_),
            "row_encoder": self.row_encoder_.state_dict(),
            "head": self.head_.state_dict(),
            "policy": self.policy_.state_dict(),
        }
        torch.save(state, Path(path))

    @classmethod
    def load(cls, path) -> "PANDAPolicy":
        """A fitted policy from a file written by :meth:`save`.

        Examples
        --------
        >>> import tempfile, os
        >>> from skfairal.datasets import make_biased_classification
        >>> from skfairal.policies import PANDAPolicy
        >>> X, y, g = make_biased_classification(200, random_state=0)
        >>> policy = PANDAPolicy(
        ...     budget=10, n_meta_iter=2, pretrain_epochs=1, random_state=0
        ... ).fit(X, y, sensitive_features=g)
        >>> path = os.path.join(tempfile.mkdtemp(), "panda.pt")
        >>> policy.save(path)
        >>> again = PANDAPolicy.load(path)
        >>> bool(
        ...     (
        ...         again.select(X, random_state=0) == policy.select(X, random_state=0)
        ...     ).all()
        ... )
        True
        """
        state = torch.load(Path(path), weights_only=True, map_location="cpu")
        policy = cls(**state["params"])
        policy.n_features_in_ = int(state["n_features_in"])
        policy.classes_ = np.asarray(state["classes"])
        policy.mean_ = state["mean"].numpy()
        policy.scale_ = state["scale"].numpy()
        policy._build(torch.device("cpu"))
        policy.row_encoder_.load_state_dict(state["row_encoder"])
        policy.head_.load_state_dict(state["head"])
        policy.policy_.load_state_dict(state["policy"])
        for module in (policy.row_encoder_, policy.head_, policy.policy_):
            module.eval().requires_grad_(False)
        return policy
