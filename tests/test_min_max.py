"""Tests for min-max active sampling (skfairal.query.MinMaxSampling)."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss

from skfairal import FairActiveClassifier
from skfairal.datasets import make_biased_classification
from skfairal.query import MinMaxSampling, get_strategy


def _fitted(n=400, n_labeled=60, seed=0, **data_kwargs):
    X, y, g = make_biased_classification(n, random_state=seed, **data_kwargs)
    learner = FairActiveClassifier(LogisticRegression())
    learner.fit(X[:n_labeled], y[:n_labeled], sensitive_features=g[:n_labeled])
    return learner, X[n_labeled:], y[n_labeled:], g[n_labeled:]


def test_registered_as_min_max():
    assert isinstance(get_strategy("min_max"), MinMaxSampling)


def test_validation_losses_are_the_groups_log_loss():
    learner, _, _, g_pool = _fitted()
    X_val, y_val, g_val = make_biased_classification(300, random_state=7)
    strategy = MinMaxSampling(fairness_set=(X_val, y_val, g_val))
    losses, codes = strategy.group_losses(learner, pool_sensitive_features=g_pool)
    proba = learner.predict_proba(X_val)
    groups = sorted(set(g_val))
    expected = [
        log_loss(y_val[g_val == a], proba[g_val == a], labels=[0, 1]) for a in groups
    ]
    np.testing.assert_allclose(losses, expected)
    np.testing.assert_array_equal(np.array(groups)[codes], g_pool)


def test_p_zero_draws_only_from_the_worst_group():
    learner, X_pool, _, g_pool = _fitted()
    strategy = MinMaxSampling(p=0.0, loss="zero_one")
    losses, codes = strategy.group_losses(learner, pool_sensitive_features=g_pool)
    picks = strategy(learner, X_pool, 20, sensitive_features=g_pool, random_state=0)
    assert set(codes[picks]) == {int(np.argmax(losses))}


def test_p_one_is_uniform_over_the_pool():
    learner, X_pool, _, g_pool = _fitted(n=2000)
    strategy = MinMaxSampling(p=1.0)
    picks = strategy(learner, X_pool, 600, sensitive_features=g_pool, random_state=0)
    assert len(np.unique(picks)) == 600
    # Each group's share of the picks matches its share of the pool.
    for group in np.unique(g_pool):
        share = np.mean(g_pool[picks] == group)
        assert abs(share - np.mean(g_pool == group)) < 0.06


def test_a_group_without_labeled_rows_is_the_worst():
    X, y, g = make_biased_classification(300, random_state=1)
    labeled = np.flatnonzero(g == g[0])[:40]
    pool = np.setdiff1d(np.arange(300), labeled)
    learner = FairActiveClassifier(LogisticRegression()).fit(
        X[labeled], y[labeled], sensitive_features=g[labeled]
    )
    picks = MinMaxSampling()(learner, X[pool], 5, sensitive_features=g[pool])
    assert set(g[pool][picks]) == set(np.unique(g)) - {g[0]}


def test_same_seed_same_picks():
    learner, X_pool, _, g_pool = _fitted()
    strategy = MinMaxSampling(p=0.5)
    one = strategy(learner, X_pool, 10, sensitive_features=g_pool, random_state=3)
    two = strategy(learner, X_pool, 10, sensitive_features=g_pool, random_state=3)
    np.testing.assert_array_equal(one, two)


@pytest.mark.parametrize(
    ("kwargs", "call", "match"),
    [
        ({}, {"sensitive_features": None}, "sensitive_features for the pool"),
        ({"fairness_set": (1, 2)}, {}, "tuple of 2"),
        ({"p": 1.5}, {}, "'p' parameter"),
        ({"loss": "hinge"}, {}, "'loss' parameter"),
    ],
)
def test_bad_input(kwargs, call, match):
    learner, X_pool, _, g_pool = _fitted(n=200)
    call = {"sensitive_features": g_pool, **call}
    with pytest.raises(ValueError, match=match):
        MinMaxSampling(**kwargs)(learner, X_pool, 1, **call)


def test_validation_labels_must_be_the_learners_classes():
    learner, X_pool, _, g_pool = _fitted(n=200)
    X_val, y_val, g_val = make_biased_classification(50, random_state=3)
    strategy = MinMaxSampling(fairness_set=(X_val, y_val + 2, g_val))
    with pytest.raises(ValueError, match="not the learner's classes"):
        strategy(learner, X_pool, 1, sensitive_features=g_pool)


def test_lowers_the_worst_group_loss_versus_entropy(group_boundary_problem):
    # The minority's boundary differs from the majority's: entropy sampling
    # labels along the majority's boundary, min-max sampling labels the group
    # the model serves worst, and the worst group's test loss drops.
    worst = {"entropy": [], "min_max": []}
    for seed in range(4):
        X, y, g = group_boundary_problem(2000, seed)
        X_test, y_test, g_test = group_boundary_problem(4000, seed + 100)
        X_val, y_val, g_val = group_boundary_problem(400, seed + 200)
        strategies = {
            "entropy": "entropy",
            "min_max": MinMaxSampling(fairness_set=(X_val, y_val, g_val)),
        }
        for name, strategy in strategies.items():
            learner = FairActiveClassifier(
                LogisticRegression(),
                strategy,
                budget=80,
                batch_size=5,
                initial_size=20,
                random_state=seed,
            ).fit(X, y, sensitive_features=g)
            proba = learner.predict_proba(X_test)
            worst[name].append(
                max(
                    log_loss(y_test[g_test == a], proba[g_test == a], labels=[0, 1])
                    for a in (0, 1)
                )
            )
    entropy, min_max = np.mean(worst["entropy"]), np.mean(worst["min_max"])
    assert min_max < 0.85 * entropy, (min_max, entropy)
