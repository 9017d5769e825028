r"""Solves with the Hessian of an L2 logistic regression, without its inverse.

:class:`LogisticHessian` holds the Hessian that :class:`LogisticInfluence`
documents,

.. math:: H = \tilde X^\top D \tilde X + \operatorname{diag}(a, \dots, a,
          \varepsilon), \qquad D = \operatorname{diag}(p (1 - p)),

with :math:`a = \lambda + \varepsilon` on the weights and :math:`\varepsilon`
alone on the (unpenalised) intercept, :math:`\varepsilon` the tiny ridge
``1e-8`` of the mean diagonal. It is factored, never inverted: an explicit
inverse costs about 6 times a Cholesky factorisation (2,001 parameters, one
thread) and is no more accurate.

With more parameters than labeled rows (a genotype matrix of thousands of
SNPs and a few hundred labels), forming the :math:`d \times d` matrix at all
is the cost. The weights' block is then a diagonal plus a rank-:math:`n`
term, :math:`P = a I + B^\top B` with :math:`B = D^{1/2} X`, which the
Woodbury identity solves through the :math:`n \times n` matrix
:math:`K = a I + B B^\top`,

.. math:: P^{-1} v = (v - B^\top K^{-1} B v) / a,

and the intercept is the border of :math:`H`: with :math:`r = D^{1/2} 1`,
:math:`q = B^\top r` and :math:`z = P^{-1} q = B^\top K^{-1} r`, the Schur
complement is :math:`\sigma = s - q^\top z = \varepsilon + a\, r^\top K^{-1}
r` (:math:`s = r^\top r + \varepsilon`), a sum of positive terms. Treating
the intercept as a weight with ridge :math:`\varepsilon` in the identity
instead would divide by :math:`\varepsilon` and cancel: the border keeps it
exact. Setup is :math:`O(n^2 d)` against :math:`O(n d^2 + d^3)`, and a solve
:math:`O(n d)` a column against :math:`O(d^2)`. The identity is chosen only
with fewer rows than parameters: with more, and no penalty (:math:`a =
\varepsilon`), :math:`K` would be as ill-conditioned as :math:`H` is, and
the dense factorisation is the accurate one.
"""

import numpy as np
from scipy.linalg import LinAlgError, cho_factor, cho_solve, lu_factor, lu_solve

# The ridge that keeps H invertible for separable or unpenalised fits, as a
# share of its mean diagonal.
_RIDGE = 1e-8


class LogisticHessian:
    r"""The Hessian of a logistic regression's objective on its labeled rows.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features)
        The labeled rows' dense features, without the intercept's column.
    curvature : ndarray of shape (n_rows,)
        :math:`p (1 - p)` of each row.
    penalty_strength : float
        :math:`\lambda` (0 without penalty).
    intercept : bool
        Whether the parameters end with an intercept.
    woodbury : bool or None, default=None
        Solve through the Woodbury identity (True) or the formed Hessian
        (False); None chooses Woodbury when there are fewer rows than
        parameters, where it is the cheaper.

    Attributes
    ----------
    n_params : int
        The Hessian's order: features, plus one with an intercept.
    woodbury : bool
        Whether the solves use the Woodbury identity.
    """

    def __init__(
        self, X, curvature, penalty_strength, intercept, *, woodbury=None
    ) -> None:
        X = np.asarray(X, dtype=np.float64)
        curvature = np.asarray(curvature, dtype=np.float64)
        n, d = X.shape
        self.n_params = d + bool(intercept)
        self._d, self._intercept = d, bool(intercept)
        self.woodbury = n < self.n_params if woodbury is None else bool(woodbury)
        if self.woodbury:
            self._factor_woodbury(X, curvature, float(penalty_strength))
        else:
            self._factor_dense(X, curvature, float(penalty_strength))

    def _factor_dense(self, X, curvature, penalty_strength) -> None:
        if self._intercept:
            X = np.hstack([X, np.ones((len(X), 1))])
        reg = np.full(self.n_params, penalty_strength)
        if self._intercept:
            reg[-1] = 0.0
        H = (X * curvature[:, None]).T @ X
        H[np.diag_indices_from(H)] += reg
        H[np.diag_indices_from(H)] += _RIDGE * max(1.0, np.trace(H) / self.n_params)
        try:
            self._cho = cho_factor(H, check_finite=False)
            self._lu = None
        except LinAlgError:  # not positive definite in floating point
            self._cho = None
            self._lu = lu_factor(H, check_finite=False)

    def _factor_woodbury(self, X, curvature, penalty_strength) -> None:
        root = np.sqrt(curvature)
        B = X * root[:, None]
        # H's trace without H: the curvature-weighted squared norms.
        trace = np.einsum("ij,ij->", B, B) + penalty_strength * self._d
        if self._intercept:
            trace += curvature.sum()
        ridge = _RIDGE * max(1.0, trace / self.n_params)
        self._a = penalty_strength + ridge
        K = B @ B.T
        K[np.diag_indices_from(K)] += self._a
        self._B = B
        self._K = cho_factor(K, check_finite=False)
        if self._intercept:
            K_inv_r = cho_solve(self._K, root, check_finite=False)
            self._z = B.T @ K_inv_r
            self._sigma = ridge + self._a * float(root @ K_inv_r)

    def _solve_weights(self, V) -> np.ndarray:
        """:math:`P^{-1} V` by the Woodbury identity."""
        W = cho_solve(self._K, self._B @ V, check_finite=False)
        return (V - self._B.T @ W) / self._a

    def solve(self, V) -> np.ndarray:
        """:math:`H^{-1} V`.

        Parameters
        ----------
        V : array-like of shape (n_params,) or (n_params, k)

        Returns
        -------
        solution : ndarray of the shape of ``V``
        """
        V = np.asarray(V, dtype=np.float64)
        if not self.woodbury:
            if self._cho is not None:
                return cho_solve(self._cho, V, check_finite=False)
            return lu_solve(self._lu, V, check_finite=False)
        if not self._intercept:
            return self._solve_weights(V)
        v, t = V[:-1], V[-1]
        # The border: y = (t - z.v) / sigma, then x = P^{-1} v - z y.
        y = (t - self._z @ v) / self._sigma
        x = self._solve_weights(v) - np.multiply.outer(self._z, y)
        return np.concatenate([x, np.reshape(y, (1, *np.shape(y)))])

    def inverse(self) -> np.ndarray:
        """:math:`H^{-1}`, formed: :math:`O(d^3)`, or :math:`O(n d^2)` by
        Woodbury."""
        H_inv = self.solve(np.eye(self.n_params))
        return (H_inv + H_inv.T) / 2  # symmetric, as H is
