"""PANDA's inner learners: the classifier a meta-task trains on the soft picks.

Each maps the soft selection weights of a meta-task's pool rows to the
logits of the classifier trained on them, for its validation rows,
differentiably in the weights:

- :class:`ImplicitLogistic`: an L2-regularised logistic regression solved to
  convergence (what scikit-learn's ``LogisticRegression`` fits); its
  gradient in the weights comes from the implicit function theorem at the
  optimum, one Hessian solve, no unrolling.
- :class:`UnrolledLogistic`: a linear classifier taking a few gradient
  steps from zero, differentiated through the steps.

This module imports torch; :mod:`skfairal.policies` loads it on first use.
"""

import torch
from torch import nn

# Above this many coefficients the Hessian is not formed: Newton and the
# hypergradient solve by conjugate gradients on Hessian-vector products
# (a d x d solve per Newton step costs d^3: 2,000 SNP features made a
# meta-task take seconds).
_DENSE_LIMIT = 512
# Keeps the Hessian invertible when the intercept (unpenalised) meets rows
# of weight ~0: far below any penalty scikit-learn's C allows in practice.
_INTERCEPT_RIDGE = 1e-8


def _with_intercept(X, fit_intercept: bool):
    if not fit_intercept:
        return X
    return torch.cat([X, torch.ones(len(X), 1, dtype=X.dtype, device=X.device)], 1)


class _WeightedLogistic:
    """``C * sum_i r_i * logloss_i(w) + ||w_features||^2 / 2`` and its pieces.

    ``Xa`` holds the rows (with a column of ones for the intercept, which is
    not penalised, as in scikit-learn), ``y`` the 0/1 labels and ``r`` the
    row weights (selection weight times class weight).
    """

    def __init__(self, Xa, y, r, C: float, fit_intercept: bool):
        self.Xa, self.y, self.r, self.C = Xa, y, r, C
        self.penalty = torch.ones(Xa.shape[1], dtype=Xa.dtype, device=Xa.device)
        if fit_intercept:
            self.penalty[-1] = _INTERCEPT_RIDGE

    def value(self, w) -> torch.Tensor:
        z = self.Xa @ w
        loss = nn.functional.softplus(z) - self.y * z
        return self.C * (self.r * loss).sum() + 0.5 * (self.penalty * w * w).sum()

    def gradient_and_curvature(self, w):
        p = torch.sigmoid(self.Xa @ w)
        gradient = self.C * (self.Xa.T @ (self.r * (p - self.y))) + self.penalty * w
        return gradient, self.C * self.r * p * (1 - p), p

    def solve(self, curvature, rhs):
        """``H^-1 rhs``, ``H = Xa^T diag(curvature) Xa + diag(penalty)``."""
        Xa = self.Xa
        if Xa.shape[1] <= _DENSE_LIMIT:
            H = Xa.T @ (curvature[:, None] * Xa)
            H.diagonal().add_(self.penalty)
            return torch.linalg.solve(H, rhs)
        return _conjugate_gradients(
            lambda v: Xa.T @ (curvature * (Xa @ v)) + self.penalty * v, rhs
        )

    def minimise(self, w0, *, tol: float = 1e-6, max_iter: int = 50):
        """Newton's method with a backtracking line search, from ``w0``."""
        w = w0.clone()
        value = self.value(w)
        for _ in range(max_iter):
            gradient, curvature, _ = self.gradient_and_curvature(w)
            if float(gradient.abs().max()) <= tol:
                break
            step = self.solve(curvature, gradient)
            decrease = float(gradient @ step)
            size = 1.0
            while size > 1e-6:
                candidate = w - size * step
                candidate_value = self.value(candidate)
                if candidate_value <= value - 1e-4 * size * decrease:
                    break
                size /= 2
            w, value = candidate, candidate_value
        return w


def _conjugate_gradients(apply, rhs, *, tol: float = 1e-8, max_iter: int = 200):
    x = torch.zeros_like(rhs)
    residual = rhs.clone()
    direction = residual.clone()
    norm = residual @ residual
    stop = tol**2 * max(float(norm), 1e-30)
    for _ in range(max_iter):
        if float(norm) <= stop:
            break
        product = apply(direction)
        alpha = norm / (direction @ product)
        x += alpha * direction
        residual -= alpha * product
        new_norm = residual @ residual
        direction = residual + (new_norm / norm) * direction
        norm = new_norm
    return x


class _ConvergedWeights(torch.autograd.Function):
    """``w*(r)``, the optimum of :class:`_WeightedLogistic`, differentiable in r.

    At the optimum the gradient ``g(w, r)`` is zero, so (implicit function
    theorem) ``dw*/dr = -H^-1 dg/dr`` with ``dg/dr_i = C (p_i - y_i) x_i``:
    the backward pass is one solve ``v = H^-1 grad_w`` and
    ``grad_r_i = -C (p_i - y_i) x_i . v``.
    """

    @staticmethod
    def forward(ctx, r, Xa, y, w0, C, fit_intercept):
        problem = _WeightedLogistic(Xa, y, r, C, fit_intercept)
        w = problem.minimise(w0)
        _, curvature, p = problem.gradient_and_curvature(w)
        ctx.problem, ctx.curvature, ctx.p = problem, curvature, p
        return w

    @staticmethod
    def backward(ctx, grad_w):
        problem = ctx.problem
        v = problem.solve(ctx.curvature, grad_w)
        grad_r = -problem.C * (ctx.p - problem.y) * (problem.Xa @ v)
        return grad_r, None, None, None, None, None


class ImplicitLogistic:
    """The converged L2 logistic regression on a meta-task's soft picks.

    Parameters
    ----------
    X : tensor of shape (n_samples, n_features)
        The rows in the feature space of the user's classifier.
    y : tensor of shape (n_samples,)
        Their 0/1 labels.
    C, fit_intercept : float, bool
        As in scikit-learn's ``LogisticRegression``.
    class_weight : tensor of shape (2,), "balanced" or None
        The weight of each label's rows; "balanced" weighs them inversely to
        the labels' shares of the (soft) selection, as scikit-learn does.
    """

    # Fitted on the hard top-b picks, differentiated through the relaxation:
    # at an unpicked row (weight 0), the gradient is the row's influence.
    hard_selection = True

    def __init__(self, X, y, *, C: float, fit_intercept: bool, class_weight=None):
        self.X, self.y = X, y
        self.C, self.fit_intercept, self.class_weight = C, fit_intercept, class_weight
        self._start = None  # Newton starts from the last optimum (warm start)

    def _row_weights(self, weights, y):
        if self.class_weight is None:
            return weights
        if isinstance(self.class_weight, str):  # "balanced"
            totals = torch.stack([weights[y == 0].sum(), weights[y == 1].sum()])
            scale = weights.sum() / (2 * totals.clamp(min=1e-12))
            return weights * scale[y.long()]
        return weights * self.class_weight.to(weights)[y.long()]

    def __call__(self, weights, pool, val):
        """Validation logits of the classifier fitted with ``weights`` on ``pool``."""
        Xa = _with_intercept(self.X[pool].double(), self.fit_intercept)
        y = self.y[pool].double()
        r = self._row_weights(weights.double(), self.y[pool])
        if self._start is None or len(self._start) != Xa.shape[1]:
            self._start = torch.zeros(Xa.shape[1], dtype=Xa.dtype, device=Xa.device)
        w = _ConvergedWeights.apply(r, Xa, y, self._start, self.C, self.fit_intercept)
        self._start = w.detach()
        return _with_intercept(self.X[val].double(), self.fit_intercept) @ w


class UnrolledLogistic:
    """A linear classifier from zero, ``n_steps`` unrolled SGD steps of ``lr``.

    ``X`` are the inner features (PANDA's representation scaled by ``1 /
    sqrt(d_model)``); :class:`FewStepLogisticRegression` takes the same steps.
    """

    # The paper's relaxation: the classifier trains on the soft weights.
    hard_selection = False

    def __init__(self, X, y, *, n_steps: int, lr: float):
        self.X, self.y, self.n_steps, self.lr = X, y, n_steps, lr

    def __call__(self, weights, pool, val):
        X_pool, y_pool = self.X[pool], self.y[pool]
        w = torch.zeros(2, self.X.shape[1], device=self.X.device, requires_grad=True)
        bias = torch.zeros(2, device=self.X.device, requires_grad=True)
        for _ in range(self.n_steps):
            losses = nn.functional.cross_entropy(
                X_pool @ w.T + bias, y_pool, reduction="none"
            )
            inner = (weights * losses).sum() / weights.sum()
            grad_w, grad_b = torch.autograd.grad(inner, (w, bias), create_graph=True)
            w, bias = w - self.lr * grad_w, bias - self.lr * grad_b
        logits = self.X[val] @ w.T + bias
        # Two-class softmax = the logistic of the logit difference.
        return logits[:, 1] - logits[:, 0]
