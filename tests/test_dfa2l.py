"""Tests for D-FA2L (skfairal.query.DFA2LSampling)."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from skfairal import FairActiveClassifier
from skfairal.datasets import make_biased_classification
from skfairal.metrics import equalized_odds_difference
from skfairal.query import (
    DFA2LSampling,
    entropy_sampling,
    get_strategy,
    group_disagreement,
)


def _fitted(n=600, n_labeled=120, seed=0):
    X, y, g = make_biased_classification(n, random_state=seed)
    learner = FairActiveClassifier(LogisticRegression())
    learner.fit(X[:n_labeled], y[:n_labeled], sensitive_features=g[:n_labeled])
    return learner, X[n_labeled:], g[n_labeled:]


def test_registered_as_d_fa2l():
    assert isinstance(get_strategy("d_fa2l"), DFA2LSampling)


def test_disagreement_is_the_gap_between_the_group_models():
    learner, X_pool, _ = _fitted()
    X_lab, y_lab = learner.X_labeled_, learner.y_encoded_
    g_lab = learner.sensitive_features_labeled_
    p = [
        LogisticRegression()
        .fit(X_lab[g_lab == a], y_lab[g_lab == a])
        .predict_proba(X_pool)
        for a in (0, 1)
    ]
    expected = np.abs(p[0][:, 1] - p[1][:, 1])
    np.testing.assert_allclose(group_disagreement(learner, X_pool), expected)


def test_a_group_without_both_classes_has_no_model():
    X, y, g = make_biased_classification(400, random_state=0)
    # Group 1's labeled rows are all negatives: only group 0 has a model.
    labeled = np.flatnonzero((g == 0) | (y == 0))[:100]
    learner = FairActiveClassifier(LogisticRegression()).fit(
        X[labeled], y[labeled], sensitive_features=g[labeled]
    )
    np.testing.assert_array_equal(group_disagreement(learner, X[:50]), 0.0)
    # ... and the strategy falls back to entropy sampling.
    picks = DFA2LSampling()(learner, X[:50], 5, random_state=0)
    np.testing.assert_array_equal(
        np.sort(picks), np.sort(entropy_sampling(learner, X[:50], 5))
    )


def test_candidates_come_first_drawn_uniformly():
    learner, X_pool, _ = _fitted()
    disagreement = group_disagreement(learner, X_pool)
    alpha = float(np.quantile(disagreement, 0.8))
    candidates = np.flatnonzero(disagreement > alpha)
    strategy = DFA2LSampling(alpha=alpha)
    picks = strategy(learner, X_pool, len(candidates) + 3, random_state=0)
    assert set(picks[: len(candidates)]) == set(candidates)
    # The rest of the batch is the most uncertain of the other rows.
    others = np.setdiff1d(np.arange(len(X_pool)), candidates)
    entropy_order = others[entropy_sampling(learner, X_pool[others], 3)]
    assert set(picks[len(candidates) :]) == set(entropy_order)
    # Different seeds draw different candidates when there are more than needed.
    draws = {tuple(strategy(learner, X_pool, 5, random_state=s)) for s in range(5)}
    assert len(draws) > 1
    assert all(set(d) <= set(candidates) for d in draws)


def test_alpha_one_is_entropy_sampling():
    learner, X_pool, _ = _fitted()
    picks = DFA2LSampling(alpha=1.0)(learner, X_pool, 10, random_state=0)
    np.testing.assert_array_equal(
        np.sort(picks), np.sort(entropy_sampling(learner, X_pool, 10))
    )


def test_no_pool_groups_needed():
    learner, X_pool, _ = _fitted()
    picks = DFA2LSampling()(learner, X_pool, 4, sensitive_features=None)
    assert len(np.unique(picks)) == 4


def test_needs_the_groups_of_the_labeled_rows():
    X, y, _ = make_biased_classification(300, random_state=0)
    learner = FairActiveClassifier(LogisticRegression()).fit(X[:100], y[:100])
    with pytest.raises(ValueError, match="sensitive features of the labeled rows"):
        DFA2LSampling()(learner, X[100:], 1)


def test_bad_alpha():
    learner, X_pool, _ = _fitted(n=200, n_labeled=60)
    with pytest.raises(ValueError, match="'alpha' parameter"):
        DFA2LSampling(alpha=1.5)(learner, X_pool, 1)


def test_lowers_equalized_odds_versus_entropy(group_boundary_problem):
    # The groups' boundaries differ; the pool rows on which the groups'
    # models disagree are where the shared model errs for the minority.
    gaps = {"entropy": [], "d_fa2l": []}
    for seed in range(8):
        X, y, g = group_boundary_problem(3000, seed)
        X_test, y_test, g_test = group_boundary_problem(4000, seed + 100)
        for name in gaps:
            learner = FairActiveClassifier(
                LogisticRegression(),
                name,
                budget=100,
                batch_size=5,
                initial_size=30,
                random_state=seed,
            ).fit(X, y, sensitive_features=g)
            y_hat = learner.predict(X_test)
            gaps[name].append(
                equalized_odds_difference(y_test, y_hat, sensitive_features=g_test)
            )
    entropy, d_fa2l = np.mean(gaps["entropy"]), np.mean(gaps["d_fa2l"])
    assert d_fa2l < 0.9 * entropy, (d_fa2l, entropy)
