"""Tests for min-max active sampling (skfairal.query.MinMaxSampling)."""

import numpy as np
import pandas as pd
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


def test_groups_of_equal_loss_are_drawn_from_together():
    # Two groups without labeled rows both count as the worst: the batch
    # mixes them uniformly rather than taking one group before the other.
    X, y, g = make_biased_classification(
        600,
        group_proportions=(0.5, 0.25, 0.25),
        base_rates=0.5,
        label_noise=0.0,
        random_state=2,
    )
    labeled = np.flatnonzero(g == 0)[:100]
    pool = np.setdiff1d(np.arange(600), labeled)
    learner = FairActiveClassifier(LogisticRegression()).fit(
        X[labeled], y[labeled], sensitive_features=g[labeled]
    )
    picks = MinMaxSampling()(
        learner, X[pool], 60, sensitive_features=g[pool], random_state=0
    )
    chosen = g[pool][picks]
    assert set(chosen) == {1, 2}
    assert 15 <= np.sum(chosen == 1) <= 45


def test_through_the_learner_same_seed_same_picks_and_a_repeat_redoes_the_round():
    X, y, g = make_biased_classification(400, random_state=4)

    def learner(seed):
        return FairActiveClassifier(
            LogisticRegression(), MinMaxSampling(p=0.5), random_state=seed
        ).fit(X[:60], y[:60], sensitive_features=g[:60])

    def query(fitted):
        return fitted.query(X[60:], 10, sensitive_features=g[60:])

    one = learner(0)
    first = query(one)
    np.testing.assert_array_equal(first, query(learner(0)))
    np.testing.assert_array_equal(first, query(one))  # no teach in between
    # The picks are the learner seed's: the uniform ones and the draw within
    # the worst group change with it.
    assert len({tuple(query(learner(s))) for s in range(4)}) == 4


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_a_pool_with_nan_or_infinity_is_an_error(bad):
    learner, X_pool, _, g_pool = _fitted()
    X_pool = X_pool.copy()
    X_pool[5, 0] = bad
    strategy = MinMaxSampling(p=1.0)  # all picks uniform: nothing is scored
    with pytest.raises(ValueError, match=r"X_pool contains (NaN|infinity) \(row 5"):
        strategy(learner, X_pool, 2, sensitive_features=g_pool)


@pytest.mark.parametrize("source", ["labeled rows", "fairness_set"])
def test_groups_align_by_position_whatever_their_container(source):
    # Regression: a named Series at fit (or in the fairness_set) and a list
    # at query were stacked as two frames with different column names, and
    # the NaN-filled result was reported as "contains missing values".
    X, y, g = make_biased_classification(500, random_state=5)
    g = np.where(g == 1, "b", "a")
    X_val, y_val, g_val = X[400:], y[400:], g[400:]

    def picks(fit_groups, val_groups, pool_groups):
        fairness_set = None
        if source == "fairness_set":
            fairness_set = (X_val, y_val, val_groups)
        strategy = MinMaxSampling(fairness_set=fairness_set)
        learner = FairActiveClassifier(
            LogisticRegression(), strategy, random_state=0
        ).fit(X[:60], y[:60], sensitive_features=fit_groups)
        return (
            learner.query(X[60:400], 8, sensitive_features=pool_groups),
            strategy(
                learner, X[60:400], 8, sensitive_features=pool_groups, random_state=0
            ),
        )

    expected = picks(g[:60], g_val, g[60:400])
    for got in (
        picks(
            pd.Series(g[:60], name="sex"), pd.Series(g_val, name="sex"), list(g[60:400])
        ),
        picks(
            list(g[:60]), pd.DataFrame({"sex": g_val}), pd.Series(g[60:400], name="s")
        ),
    ):
        for one, want in zip(got, expected):
            np.testing.assert_array_equal(one, want)


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
