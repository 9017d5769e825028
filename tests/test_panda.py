"""Tests for PANDA (skfairal.policies.PANDAPolicy) and its classifier."""

import copy

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.utils.estimator_checks import parametrize_with_checks

from skfairal import FairActiveClassifier
from skfairal.datasets import make_biased_classification
from skfairal.metrics import demographic_parity_difference
from skfairal.policies import FewStepLogisticRegression, PANDAPolicy
from skfairal.query import entropy_utility, get_strategy

FAST = {"budget": 20, "n_meta_iter": 8, "pretrain_epochs": 2, "meta_pool_size": 128}


@pytest.fixture(scope="module")
def small():
    X, y, g = make_biased_classification(700, random_state=0)
    policy = PANDAPolicy(random_state=0, **FAST).fit(
        X[:400], y[:400], sensitive_features=g[:400]
    )
    return policy, X, y, g


@parametrize_with_checks([FewStepLogisticRegression()])
def test_few_step_classifier_is_sklearn_compatible(estimator, check):
    check(estimator)


def test_few_step_classifier_is_the_unrolled_inner_learner():
    X, y, _ = make_biased_classification(200, random_state=1)
    clf = FewStepLogisticRegression(n_steps=3, learning_rate=1.5).fit(X, y)
    # The same steps in torch, as PANDA's inner loop takes them.
    Z = torch.tensor(X / np.sqrt(X.shape[1]))
    w = torch.zeros(2, X.shape[1], dtype=torch.float64, requires_grad=True)
    b = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    for _ in range(3):
        loss = torch.nn.functional.cross_entropy(Z @ w.T + b, torch.tensor(y))
        gw, gb = torch.autograd.grad(loss, (w, b))
        w = (w - 1.5 * gw).detach().requires_grad_()
        b = (b - 1.5 * gb).detach().requires_grad_()
    expected = torch.softmax(Z @ w.T + b, dim=1).detach().numpy()
    np.testing.assert_allclose(clf.predict_proba(X), expected, atol=1e-10)


def test_fit_select_transform(small):
    policy, X, _, _ = small
    picks = policy.select(X[400:])
    assert len(picks) == 20
    assert len(np.unique(picks)) == 20
    assert policy.transform(X[:5]).shape == (5, policy.d_model)
    assert len(policy.history_) == FAST["n_meta_iter"]
    assert {"loss", "disparity", "satisfied", "seconds"} <= set(policy.history_[0])


def test_query_sets_default_to_the_meta_training_size(small):
    policy, X, _, _ = small
    pool = X[400:]  # 300 rows: more than the 128 of a meta-task's pool
    assert policy.max_set_size is None
    explicit = copy.deepcopy(policy).set_params(max_set_size=policy.meta_pool_size)
    one_set = copy.deepcopy(policy).set_params(max_set_size=len(pool))
    logits = policy.decision_function(pool)
    np.testing.assert_array_equal(logits, explicit.decision_function(pool))
    # Sets of 128 rows attend to other rows than one set of all 300 does.
    assert not np.allclose(logits, one_set.decision_function(pool))


@pytest.mark.parametrize("max_set_size", [None, 1024, 64])
def test_selection_does_not_depend_on_the_pool_order(small, max_set_size):
    policy, X, _, _ = small
    policy = copy.deepcopy(policy).set_params(max_set_size=max_set_size)
    pool = X[400:]
    order = np.random.RandomState(3).permutation(len(pool))
    picks = policy.select(pool, 15, random_state=1)
    shuffled = policy.select(pool[order], 15, random_state=1)
    np.testing.assert_array_equal(np.sort(order[shuffled]), np.sort(picks))


def test_identical_seeds_identical_policies():
    X, y, g = make_biased_classification(300, random_state=2)

    def fit(seed):
        return PANDAPolicy(random_state=seed, **FAST).fit(X, y, sensitive_features=g)

    one, two, other = fit(0), fit(0), fit(1)
    assert [h["loss"] for h in one.history_] == [h["loss"] for h in two.history_]
    np.testing.assert_array_equal(
        one.select(X, random_state=0), two.select(X, random_state=0)
    )
    assert not np.array_equal(one.decision_function(X), other.decision_function(X))


def test_save_and_load_reads_weights_only(small, tmp_path):
    policy, X, _, _ = small
    path = tmp_path / "panda.pt"
    policy.save(path)
    torch.load(path, weights_only=True)  # plain tensors and values only
    again = PANDAPolicy.load(path)
    params = policy.get_params()
    assert again.get_params() == params | {"random_state": None}
    np.testing.assert_allclose(again.decision_function(X), policy.decision_function(X))
    np.testing.assert_array_equal(
        again.select(X, random_state=4), policy.select(X, random_state=4)
    )


def test_as_a_strategy_needs_no_groups_at_query_time(small):
    policy, X, y, g = small
    learner = FairActiveClassifier(LogisticRegression(), policy, random_state=0)
    learner.fit(X[400:450], y[400:450], sensitive_features=g[400:450])
    assert learner.query_strategy_ is policy  # a fitted policy is used as given
    picks = learner.query(X[450:], 10)  # no sensitive_features
    assert len(np.unique(picks)) == 10


def test_by_name_it_meta_trains_on_the_labeled_rows():
    X, y, g = make_biased_classification(300, random_state=0)
    strategy = get_strategy("panda")
    assert isinstance(strategy, PANDAPolicy)
    strategy.set_params(**FAST)
    learner = FairActiveClassifier(LogisticRegression(), strategy)
    learner.fit(X[:100], y[:100], sensitive_features=g[:100])
    picks = learner.query(X[100:], 5)
    assert len(picks) == 5
    assert strategy.n_features_in_ == X.shape[1]


@pytest.mark.parametrize(
    ("kwargs", "fit_args", "match"),
    [
        ({}, {"one_group": True}, "at least 2"),
        ({}, {"no_groups": True}, "needs sensitive_features"),
        ({}, {"three_classes": True}, "binary labels"),
        ({"d_model": 30}, {}, "multiple of n_heads"),
        ({"threshold": 2.0}, {}, "'threshold' parameter"),
    ],
)
def test_bad_fit_input(kwargs, fit_args, match):
    X, y, g = make_biased_classification(100, random_state=0)
    if fit_args.get("one_group"):
        g = np.zeros_like(g)
    if fit_args.get("three_classes"):
        y = y + (X[:, 0] > 1)
    groups = None if fit_args.get("no_groups") else g
    with pytest.raises(ValueError, match=match):
        PANDAPolicy(**{**FAST, **kwargs}).fit(X, y, sensitive_features=groups)


def test_budget_larger_than_the_pool_is_an_error(small):
    policy, X, _, _ = small
    with pytest.raises(ValueError, match="budget=20 is larger than the pool"):
        policy.select(X[:10])
    with pytest.raises(ValueError, match="X has 3 features"):
        policy.select(X[:, :3])


def test_meta_training_lowers_the_disparity_and_the_policy_selects_fairer_rows():
    # A biased problem (base rates 0.5 vs 0.2): the classifier trained on
    # PANDA's picks is fairer than on entropy sampling's, as meta-trained.
    X, y, g = make_biased_classification(6000, random_state=1)
    D, pool, test = np.arange(2000), np.arange(2000, 4000), np.arange(4000, 6000)
    policy = PANDAPolicy(budget=100, random_state=1).fit(
        X[D], y[D], sensitive_features=g[D]
    )
    # The paper's claim is that the training-task disparity meets the
    # threshold (0.04); here it falls (about 0.2 to 0.1) but averages 0.1 at the
    # end, within the threshold in a minority of the late meta-tasks.
    start = np.mean([h["disparity"] for h in policy.history_[:10]])
    end = np.mean([h["disparity"] for h in policy.history_[-40:]])
    assert end < 0.7 * start, (start, end)
    assert np.mean([h["satisfied"] for h in policy.history_[-40:]]) > 0.1

    H = policy.transform(X)
    rng = np.random.RandomState(1)
    seed_rows = rng.choice(pool, 20, replace=False)
    rest = np.setdiff1d(pool, seed_rows)
    first = policy.make_classifier().fit(H[seed_rows], y[seed_rows])
    picks = {
        "entropy": rest[
            np.argsort(-entropy_utility(first.predict_proba(H[rest])))[:100]
        ],
        "panda": rest[policy.select(X[rest], random_state=1)],
    }
    gaps = {}
    for name, rows in picks.items():
        rows = np.concatenate([seed_rows, rows])
        pred = policy.make_classifier().fit(H[rows], y[rows]).predict(H[test])
        gaps[name] = demographic_parity_difference(
            y[test], pred, sensitive_features=g[test]
        )
    assert gaps["panda"] < 0.6 * gaps["entropy"], gaps


@pytest.mark.parametrize(
    ("constraint", "metric"),
    [
        ("demographic_parity", "demographic_parity_difference"),
        ("error_rate_balance", "error_rate_balance_difference"),
    ],
)
def test_disparity_surrogates_agree_with_the_metrics(constraint, metric):
    from skfairal import metrics
    from skfairal.policies._panda_modules import (
        hard_group_disparity,
        soft_group_disparity,
    )

    rng = np.random.RandomState(0)
    y = rng.randint(0, 2, 300)
    pred = rng.randint(0, 2, 300)
    groups = rng.randint(0, 3, 300)
    expected = getattr(metrics, metric)(y, pred, sensitive_features=groups)
    assert hard_group_disparity(pred, y, groups, constraint) == pytest.approx(expected)
    # On hard (0/1) probabilities the differentiable surrogate is the metric.
    soft = soft_group_disparity(
        torch.tensor(pred, dtype=torch.float64),
        torch.tensor(y),
        torch.tensor(groups),
        3,
        constraint,
    )
    assert float(soft) == pytest.approx(expected)


def test_error_rate_balance_constraint_is_trained_and_recorded():
    X, y, g = make_biased_classification(300, random_state=3)
    policy = PANDAPolicy(constraint="error_rate_balance", random_state=0, **FAST)
    policy.fit(X, y, sensitive_features=g)
    assert all(0 <= h["disparity"] <= 1 for h in policy.history_)
    assert len(policy.select(X)) == FAST["budget"]


@pytest.mark.slow
def test_on_adult_the_training_task_disparity_meets_the_constraint():
    # The paper's claim, on the paper's data: the inner classifier trained on
    # the policy's picks keeps its validation disparity at rho = 0.04.
    from sklearn.compose import make_column_transformer
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from skfairal.datasets import load_adult

    bunch = load_adult(as_frame=True)
    X = make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), bunch.categorical_features),
        (StandardScaler(), bunch.numerical_features),
        sparse_threshold=0.0,
    ).fit_transform(bunch.data)
    y = bunch.target.to_numpy()
    sex = bunch.sensitive_features["sex"].astype(str).to_numpy()
    half = np.random.RandomState(0).permutation(len(y))[: len(y) // 2]
    policy = PANDAPolicy(budget=400, threshold=0.04, random_state=0).fit(
        X[half], y[half], sensitive_features=sex[half]
    )
    late = [h["disparity"] for h in policy.history_[-40:]]
    assert np.mean(late) <= 0.04, np.mean(late)
