"""Tests for PANDA's inner classifiers: the converged logistic regression,
differentiated implicitly, and the unrolled few-step one."""

import numpy as np
import pytest
import torch
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skfairal import FairActiveClassifier
from skfairal.datasets import make_biased_classification
from skfairal.policies import FewStepLogisticRegression, PANDAPolicy, _panda_inner
from skfairal.policies._panda_inner import ImplicitLogistic
from skfairal.policies._panda_modules import meta_task
from skfairal.query import PANDASampling

TINY = {
    "budget": 10, "n_meta_iter": 3, "pretrain_epochs": 1, "meta_pool_size": 32,
    "d_model": 8, "n_heads": 2, "n_layers": 1, "n_inducing": 4,
}  # fmt: skip
CASES = [
    (1.0, True, None),
    (0.1, False, None),
    (3.0, True, "balanced"),
    (1.0, True, {0: 1.0, 1: 3.0}),
]


def _problem(seed=0, n=300):
    X, y, _ = make_biased_classification(n, random_state=seed)
    weights = np.random.RandomState(seed).uniform(0, 1, 200)
    return X, y, weights


def _sklearn(X, y, weights, C, fit_intercept, class_weight):
    model = LogisticRegression(
        C=C, fit_intercept=fit_intercept, class_weight=class_weight, tol=1e-12,
        max_iter=10_000,
    )  # fmt: skip
    return model.fit(X[:200], y[:200], sample_weight=weights)


def _implicit(X, y, C, fit_intercept, class_weight):
    if isinstance(class_weight, dict):
        class_weight = torch.tensor([class_weight[0], class_weight[1]])
    return ImplicitLogistic(
        torch.tensor(X),
        torch.tensor(y),
        C=C,
        fit_intercept=fit_intercept,
        class_weight=class_weight,
    )


@pytest.mark.parametrize(("C", "fit_intercept", "class_weight"), CASES)
def test_the_inner_optimum_is_scikit_learns_logistic_regression(
    C, fit_intercept, class_weight
):
    X, y, weights = _problem()
    inner = _implicit(X, y, C, fit_intercept, class_weight)
    logits = inner(torch.tensor(weights), torch.arange(200), torch.arange(200, 300))
    expected = _sklearn(X, y, weights, C, fit_intercept, class_weight)
    np.testing.assert_allclose(
        logits.numpy(), expected.decision_function(X[200:]), atol=1e-5
    )


@pytest.mark.parametrize("dense", [True, False])
@pytest.mark.parametrize(("C", "fit_intercept", "class_weight"), CASES)
def test_the_hypergradient_is_the_derivative_of_the_refitted_model(
    C, fit_intercept, class_weight, dense, monkeypatch
):
    # d(sum of validation logits) / d(weight of row i), by the implicit
    # function theorem, against central differences of scikit-learn refits.
    if not dense:  # conjugate gradients on Hessian-vector products
        monkeypatch.setattr(_panda_inner, "_DENSE_LIMIT", 0)
    X, y, weights = _problem(seed=1)
    inner = _implicit(X, y, C, fit_intercept, class_weight)
    w = torch.tensor(weights, requires_grad=True)
    inner(w, torch.arange(200), torch.arange(200, 300)).sum().backward()
    eps = 1e-4
    for i in (0, 7, 123):
        up, down = weights.copy(), weights.copy()
        up[i] += eps
        down[i] -= eps
        finite = (
            _sklearn(X, y, up, C, fit_intercept, class_weight)
            .decision_function(X[200:])
            .sum()
            - _sklearn(X, y, down, C, fit_intercept, class_weight)
            .decision_function(X[200:])
            .sum()
        ) / (2 * eps)
        assert w.grad[i].item() == pytest.approx(finite, rel=1e-3, abs=1e-5)


def test_an_unpicked_row_gets_its_influence_as_gradient():
    # Weight 0 (not picked): the gradient says how adding the row would move
    # the validation logits; refitting with a small weight agrees.
    X, y, weights = _problem(seed=2)
    weights[:50] = 0.0
    inner = _implicit(X, y, 1.0, True, None)
    w = torch.tensor(weights, requires_grad=True)
    inner(w, torch.arange(200), torch.arange(200, 300)).sum().backward()
    base = _sklearn(X, y, weights, 1.0, True, None).decision_function(X[200:]).sum()
    bumped = weights.copy()
    bumped[3] = 1e-4
    moved = _sklearn(X, y, bumped, 1.0, True, None).decision_function(X[200:]).sum()
    assert w.grad[3].item() == pytest.approx((moved - base) / 1e-4, rel=1e-2)


def test_a_meta_task_fits_the_inner_classifier_on_exactly_the_picked_rows():
    # Straight-through: the model of a meta-task is the one a query's b picks
    # give, so the training-task disparity is the one met at query time.
    X, y, _ = make_biased_classification(300, random_state=3)
    H = torch.randn(200, 8, generator=torch.Generator().manual_seed(0))
    scores = torch.linspace(-1, 1, 200)
    inner = _implicit(X, y, 1.0, True, None)
    policy = lambda rows: scores[: len(rows)].clone().requires_grad_()  # noqa: E731
    _, _, logits = meta_task(
        policy,
        inner,
        H,
        torch.arange(200),
        torch.arange(200, 300),
        torch.tensor(y[200:]),
        torch.tensor(X[200:, 0] > 0).long(),
        torch.zeros(200),
        20,
        n_groups=2,
        temperature=1.0,
        constraint="demographic_parity",
    )
    top = np.argsort(-scores.numpy())[:20]
    expected = LogisticRegression(tol=1e-12).fit(X[top], y[top])
    np.testing.assert_allclose(
        logits.detach().numpy(), expected.decision_function(X[200:]), atol=1e-4
    )


def test_make_classifier_is_the_inner_classifier():
    implicit = PANDAPolicy(C=0.5, fit_intercept=False, class_weight="balanced")
    model = implicit.make_classifier()
    assert isinstance(model, LogisticRegression)
    assert (model.C, model.fit_intercept, model.class_weight) == (
        0.5,
        False,
        "balanced",
    )
    unrolled = PANDAPolicy(inner="unrolled", inner_steps=3, inner_lr=1.5)
    few = unrolled.make_classifier()
    assert isinstance(few, FewStepLogisticRegression)
    assert (few.n_steps, few.learning_rate) == (3, 1.5)


def test_the_unrolled_mode_still_trains_and_selects():
    X, y, g = make_biased_classification(300, random_state=0)
    policy = PANDAPolicy(inner="unrolled", random_state=0, **TINY)
    policy.fit(X, y, sensitive_features=g)
    assert len(policy.history_) == TINY["n_meta_iter"]
    assert len(np.unique(policy.select(X))) == TINY["budget"]


def test_a_class_weight_of_an_unknown_label_is_an_error():
    X, y, g = make_biased_classification(100, random_state=0)
    policy = PANDAPolicy(class_weight={0: 1.0, "yes": 2.0}, **TINY)
    with pytest.raises(ValueError, match=r"class_weight names labels \['yes'\]"):
        policy.fit(X, y, sensitive_features=g)
    assert not hasattr(policy, "classes_")


def _trained_policy(estimator):
    X, y, g = make_biased_classification(200, random_state=0)
    strategy = PANDASampling(PANDAPolicy(**TINY))
    learner = FairActiveClassifier(estimator, strategy, random_state=0)
    learner.fit(X[:100], y[:100], sensitive_features=g[:100])
    learner.query(X[100:], 5)
    return learner.query_strategy_.policy_


@pytest.mark.parametrize("in_pipeline", [False, True])
def test_the_strategy_trains_the_policy_for_the_learners_logistic_regression(
    in_pipeline,
):
    model = LogisticRegression(C=0.3, fit_intercept=False, class_weight="balanced")
    if in_pipeline:
        model = make_pipeline(StandardScaler(), model)
    policy = _trained_policy(model)
    assert (policy.C, policy.fit_intercept, policy.class_weight) == (
        0.3,
        False,
        "balanced",
    )


@pytest.mark.parametrize(
    "estimator",
    [HistGradientBoostingClassifier(max_iter=5), LogisticRegression(l1_ratio=1.0)],
    ids=["boosting", "l1"],
)
def test_another_base_keeps_the_policys_logistic_surrogate(estimator):
    if isinstance(estimator, LogisticRegression):
        estimator.set_params(solver="saga")
    policy = _trained_policy(estimator)
    assert (policy.C, policy.fit_intercept, policy.class_weight) == (1.0, True, None)
