"""LogisticHessian's solves and LogisticInfluence's fast path against the
explicit inverse of the formed Hessian."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from skfairal import FairActiveClassifier
from skfairal.query import LogisticInfluence
from skfairal.query._hessian import LogisticHessian

# (labeled rows, features): wide (the Woodbury path) and tall (the dense one).
SHAPES = {"wide": (40, 150), "tall": (200, 12)}


def _explicit_hessian(X, curvature, penalty_strength, intercept):
    """H as LogisticInfluence documents it, formed: the reference."""
    if intercept:
        X = np.hstack([X, np.ones((len(X), 1))])
    reg = np.full(X.shape[1], penalty_strength)
    if intercept:
        reg[-1] = 0.0
    H = (X * curvature[:, None]).T @ X + np.diag(reg)
    return H + 1e-8 * max(1.0, np.trace(H) / len(H)) * np.eye(len(H))


def _problem(shape, seed=0):
    rng = np.random.RandomState(seed)
    n, d = SHAPES[shape]
    X = rng.standard_normal((n, d))
    p = 1 / (1 + np.exp(-3 * rng.standard_normal(n)))
    return rng, X, p * (1 - p)


def _tolerance(H, penalty_strength):
    # Unpenalised and wide, H is as ill-conditioned as its tiny ridge makes
    # it, and the explicit inverse is itself only good to cond(H) * eps.
    return 1e-8 if penalty_strength > 0 else max(1e-8, 1e-15 * np.linalg.cond(H))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("intercept", [True, False])
@pytest.mark.parametrize("penalty_strength", [20.0, 1.0, 0.0])
def test_solves_equal_the_explicit_inverse(shape, intercept, penalty_strength):
    rng, X, curvature = _problem(shape)
    H = _explicit_hessian(X, curvature, penalty_strength, intercept)
    V = rng.standard_normal((len(H), 5))
    reference = np.linalg.inv(H) @ V
    hessian = LogisticHessian(X, curvature, penalty_strength, intercept)
    assert hessian.woodbury == (shape == "wide")
    assert hessian.n_params == len(H)
    tol = _tolerance(H, penalty_strength)
    for solved in (hessian.solve(V), hessian.inverse() @ V):
        error = np.abs(solved - reference).max() / np.abs(reference).max()
        assert error < tol
        # Backward stable whatever the conditioning: H x reproduces v.
        residual = np.linalg.norm(H @ solved - V)
        assert residual <= 1e-12 * np.linalg.norm(H, 2) * np.linalg.norm(solved)
    # One right-hand side as a vector.
    np.testing.assert_allclose(
        hessian.solve(V[:, 0]), hessian.solve(V)[:, 0], rtol=1e-12, atol=0
    )


@pytest.mark.parametrize("intercept", [True, False])
@pytest.mark.parametrize("penalty_strength", [20.0, 1.0])
def test_woodbury_equals_the_dense_factorisation(intercept, penalty_strength):
    # Forced either way on the same rows, the two solves agree, tall or wide.
    for shape in SHAPES:
        rng, X, curvature = _problem(shape, seed=1)
        args = (X, curvature, penalty_strength, intercept)
        V = rng.standard_normal((X.shape[1] + intercept, 3))
        woodbury = LogisticHessian(*args, woodbury=True).solve(V)
        dense = LogisticHessian(*args, woodbury=False).solve(V)
        assert np.abs(woodbury - dense).max() < 1e-8 * np.abs(dense).max()


def _wide_learner(C, fit_intercept, seed=0):
    """A logistic regression fitted on 40 rows of 150 features, and a pool."""
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((240, 150))
    groups = (rng.random_sample(240) < 0.4).astype(int)
    X[:, 0] += groups
    y = (X[:, :5].sum(axis=1) + rng.standard_normal(240) > 0.5).astype(int)
    model = LogisticRegression(C=C, fit_intercept=fit_intercept, max_iter=5000)
    with warnings.catch_warnings():  # C=inf on separable rows: lbfgs stops
        warnings.simplefilter("ignore", ConvergenceWarning)
        learner = FairActiveClassifier(model).fit(
            X[:40], y[:40], sensitive_features=groups[:40]
        )
    return learner, X[40:], groups[40:]


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("C", [0.05, 1.0, np.inf])
def test_fast_path_equals_the_explicit_inverse_on_a_wide_model(C, fit_intercept):
    learner, X_pool, g_pool = _wide_learner(C, fit_intercept)
    influence = LogisticInfluence(learner)
    assert influence._hessian.woodbury
    design = influence.design(X_pool)
    X_lab = learner.X_labeled_
    curvature = _curvature(influence, X_lab)
    H = _explicit_hessian(X_lab, curvature, influence.penalty_strength, fit_intercept)
    H_inv = np.linalg.inv(H)
    tol = _tolerance(H, influence.penalty_strength)
    assert np.abs(influence.hessian_inverse - H_inv).max() < tol * np.abs(H_inv).max()
    assert influence.hessian_inverse is influence.hessian_inverse  # kept
    # The damped steps, from the inverse as they were computed before.
    u, p = influence.steps(X_pool)
    V = H_inv @ design.T
    leverage = np.einsum("ij,ji->i", design, V)
    expected = V / (1 + p * (1 - p) * leverage)
    assert np.abs(u - expected).max() < tol * np.abs(expected).max()
    # The influence of an objective's gradient.
    G = np.random.RandomState(1).standard_normal((len(influence.theta), 2))
    out, _ = influence.influence(X_pool, G)
    scores = design @ influence.theta
    expected = ((scores > 0) - p)[:, None] * (design @ (H_inv @ G))
    assert np.abs(out - expected).max() < tol * np.abs(expected).max()
    # The disparities after each label: hard predictions, so equal outright
    # (but for a row a rounding away from the boundary).
    dense = LogisticInfluence(learner)
    dense._hessian = LogisticHessian(
        X_lab, curvature, dense.penalty_strength, fit_intercept, woodbury=False
    )
    fast = influence.unfairness(X_pool[:50], X_pool, g_pool)
    np.testing.assert_allclose(fast, dense.unfairness(X_pool[:50], X_pool, g_pool))


def _curvature(influence, X):
    p = 1 / (1 + np.exp(-(influence.design(X) @ influence.theta)))
    return p * (1 - p)
