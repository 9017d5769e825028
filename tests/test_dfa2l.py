"""Tests for D-FA2L (skfairal.query.DFA2LSampling)."""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

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


def test_a_pipelines_group_models_share_its_fitted_preprocessing():
    # Each group's model is a clone of the last step on the features of the
    # learner's fitted scaler, not a pipeline refit on the group's raw rows.
    X, y, g = make_biased_classification(500, random_state=1)
    X = X * [1.0, 10.0, 100.0, 1.0, 0.1]
    learner = FairActiveClassifier(
        make_pipeline(StandardScaler(), LogisticRegression())
    ).fit(X[:150], y[:150], sensitive_features=g[:150])
    scaler = learner.estimator_[0]
    Z, Z_pool = scaler.transform(X[:150]), scaler.transform(X[150:])
    p = [
        LogisticRegression()
        .fit(Z[g[:150] == a], y[:150][g[:150] == a])
        .predict_proba(Z_pool)
        for a in (0, 1)
    ]
    np.testing.assert_allclose(
        group_disagreement(learner, X[150:]), np.abs(p[0][:, 1] - p[1][:, 1])
    )


def test_through_the_learner_same_seed_same_picks_and_a_repeat_redoes_the_round():
    X, y, g = make_biased_classification(600, random_state=2)

    def learner(seed):
        return FairActiveClassifier(
            LogisticRegression(), DFA2LSampling(alpha=0.05), random_state=seed
        ).fit(X[:120], y[:120], sensitive_features=g[:120])

    def query(fitted):
        return fitted.query(X[120:], 5)

    one = learner(0)
    first = query(one)
    assert (group_disagreement(one, X[120:]) > 0.05).sum() > 5
    np.testing.assert_array_equal(first, query(learner(0)))
    np.testing.assert_array_equal(first, query(one))  # no teach in between
    # More candidates than the batch: the learner's seed draws among them.
    assert len({tuple(query(learner(s))) for s in range(4)}) > 1


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_a_pool_with_nan_or_infinity_is_an_error(bad):
    learner, X_pool, _ = _fitted(n=300)
    X_pool = X_pool.copy()
    X_pool[2, 3] = bad
    with pytest.raises(ValueError, match=r"X_pool contains (NaN|infinity) \(row 2"):
        DFA2LSampling()(learner, X_pool, 2)


@pytest.mark.parametrize(
    "container",
    [lambda a: pd.Series(a, name="sex"), list, lambda a: pd.DataFrame({"sex": a})],
    ids=["named Series", "list", "named DataFrame"],
)
def test_labeled_groups_align_by_position_whatever_their_container(container):
    X, y, g = make_biased_classification(500, random_state=3)
    g = np.where(g == 1, "b", "a")

    def picks(groups):
        learner = FairActiveClassifier(
            LogisticRegression(), "d_fa2l", random_state=0
        ).fit(X[:120], y[:120], sensitive_features=groups)
        return learner.query(X[120:], 6, sensitive_features=list(g[120:]))

    np.testing.assert_array_equal(picks(container(g[:120])), picks(g[:120]))


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
