"""Tests for skfairal.query (strategies, registry) and skfairal.utils.select_top_k.

Expected values come from hand computation, from the base estimator's own
decision function, or from statistics (chi-square) — never from the output
of the code under test.
"""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import chisquare
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from skfairal import FairActiveClassifier
from skfairal.datasets import make_biased_classification
from skfairal.query import (
    DFA2LSampling,
    FACAGENSampling,
    FalconSampling,
    GroupAwareRandomSampling,
    MinMaxSampling,
    available_strategies,
    entropy_sampling,
    entropy_utility,
    get_strategy,
    group_aware_random_sampling,
    margin_sampling,
    margin_utility,
    random_sampling,
    register_strategy,
    uncertainty_sampling,
    uncertainty_utility,
    unregister_strategy,
)
from skfairal.utils import select_top_k

N_LABELED = 60


def _data(n=200, seed=0, **kwargs):
    return make_biased_classification(n, random_state=seed, **kwargs)


def base_for(name):
    """LogisticRegression, or under a fairlearn constraint for a strategy that
    reads the constrained model."""
    if getattr(get_strategy(name), "requires_constrained_base", False):
        from fairlearn.reductions import DemographicParity, ExponentiatedGradient

        return ExponentiatedGradient(
            LogisticRegression(), DemographicParity(difference_bound=0.05)
        )
    return LogisticRegression()


def _fitted(container="ndarray", strategy="entropy", n=200, seed=0, base=None):
    """A learner fitted on the first N_LABELED rows, and the pool (the rest)."""
    X, y, g = _data(n, seed)
    if container == "DataFrame":
        X = pd.DataFrame(X, columns=[f"f{j}" for j in range(X.shape[1])])
    base = LogisticRegression() if base is None else base
    learner = FairActiveClassifier(base, strategy, random_state=0)
    labeled = slice(None, N_LABELED)
    pool = slice(N_LABELED, None)
    take = (lambda A, s: A.iloc[s]) if container == "DataFrame" else (lambda A, s: A[s])
    learner.fit(take(X, labeled), y[labeled], sensitive_features=g[labeled])
    X_pool = take(X, pool)
    if container == "list":
        X_pool = X_pool.tolist()
    return learner, X_pool, g[pool]


# --------------------------------------------------------------------------
# 1. One contract, every registered strategy (collected from the registry)
# --------------------------------------------------------------------------

STRATEGY_NAMES = available_strategies()
CONTAINERS = ("ndarray", "list", "DataFrame")


def test_builtin_strategies_are_registered():
    assert {
        "random",
        "uncertainty",
        "margin",
        "entropy",
        "group_aware_random",
    } <= set(STRATEGY_NAMES)


@pytest.mark.parametrize("container", CONTAINERS)
@pytest.mark.parametrize("name", STRATEGY_NAMES)
def test_strategy_contract(name, container):
    learner, X_pool, g_pool = _fitted(container, base=base_for(name))
    n_pool = len(g_pool)
    strategy = get_strategy(name)
    for n_instances in (1, 7, n_pool):
        picks = strategy(
            learner, X_pool, n_instances, sensitive_features=g_pool, random_state=3
        )
        assert isinstance(picks, np.ndarray)
        assert picks.ndim == 1
        assert picks.dtype.kind == "i"
        assert len(picks) == n_instances
        assert len(np.unique(picks)) == n_instances
        assert picks.min() >= 0
        assert picks.max() < n_pool
        again = strategy(
            learner, X_pool, n_instances, sensitive_features=g_pool, random_state=3
        )
        np.testing.assert_array_equal(picks, again)
    # The whole pool is a permutation of it.
    np.testing.assert_array_equal(np.sort(picks), np.arange(n_pool))
    # Through the learner's own query, with the strategy given by name.
    via_learner = learner.query(X_pool, 5, sensitive_features=g_pool)
    assert via_learner.dtype.kind == "i"
    assert len(np.unique(via_learner)) == 5
    np.testing.assert_array_equal(
        via_learner, learner.query(X_pool, 5, sensitive_features=g_pool)
    )


@pytest.mark.parametrize("name", STRATEGY_NAMES)
def test_strategy_rejects_too_many_instances(name):
    learner, X_pool, g_pool = _fitted(base=base_for(name))
    with pytest.raises(ValueError, match="n_instances=141 is larger than the pool"):
        get_strategy(name)(
            learner, X_pool, len(g_pool) + 1, sensitive_features=g_pool, random_state=0
        )


@pytest.mark.parametrize("bad", [0, -2, 1.5, "3", True, None])
@pytest.mark.parametrize("name", STRATEGY_NAMES)
def test_strategy_rejects_bad_n_instances(name, bad):
    learner, X_pool, g_pool = _fitted(base=base_for(name))
    with pytest.raises(ValueError, match="n_instances"):
        get_strategy(name)(
            learner, X_pool, bad, sensitive_features=g_pool, random_state=0
        )


@pytest.mark.parametrize("name", STRATEGY_NAMES)
def test_strategy_rejects_empty_pool(name):
    learner, X_pool, _ = _fitted(base=base_for(name))
    with pytest.raises(ValueError, match="X_pool is empty"):
        get_strategy(name)(
            learner, X_pool[:0], 1, sensitive_features=np.array([]), random_state=0
        )


@pytest.mark.parametrize("name", STRATEGY_NAMES)
def test_strategy_needs_a_fitted_learner(name):
    X, _, g = _data()
    with pytest.raises(NotFittedError):
        get_strategy(name)(
            FairActiveClassifier(LogisticRegression()),
            X,
            1,
            sensitive_features=g,
            random_state=0,
        )


@pytest.mark.parametrize(
    ("strategy", "param", "values"),
    [
        (MinMaxSampling(), "p", [0.0, 0.5]),
        (FalconSampling(), "lam", [0.0, 1.0]),
        (DFA2LSampling(), "alpha", [0.1, 0.5]),
        (FACAGENSampling(n_components=2), "controller", ["fixed", "dual"]),
    ],
    ids=["min_max", "falcon", "d_fa2l", "facagen"],
)
def test_strategy_knob_is_tunable_in_grid_search_over_a_pipeline(
    strategy, param, values
):
    X, y, g = make_biased_classification(300, random_state=0)
    learner = FairActiveClassifier(
        LogisticRegression(), strategy, budget=10, batch_size=5, random_state=0
    )
    search = GridSearchCV(
        make_pipeline(StandardScaler(), learner),
        {f"fairactiveclassifier__query_strategy__{param}": values},
        cv=2,
        error_score="raise",
    )
    search.fit(X, y, fairactiveclassifier__sensitive_features=g)
    assert len(search.cv_results_["params"]) == 2
    best = search.best_estimator_[-1]
    assert len(best.history_) == 3  # the initial fit and two rounds of five
    assert best.query_strategy_.get_params()[param] in values


# --------------------------------------------------------------------------
# 2. Utilities (hand-computed values)
# --------------------------------------------------------------------------


def test_uncertainty_utility_values():
    proba = [[0.9, 0.1], [0.5, 0.5], [0.2, 0.3, 0.5]]
    np.testing.assert_allclose(
        uncertainty_utility(np.array(proba[:2])), [0.1, 0.5], atol=1e-15
    )
    np.testing.assert_allclose(uncertainty_utility([proba[2]]), [0.5], atol=1e-15)


def test_margin_utility_values():
    # -(p_(1) - p_(2)): 0.7-0.2 = 0.5, 0.4-0.35 = 0.05; the column order is free.
    np.testing.assert_allclose(
        margin_utility([[0.2, 0.7, 0.1], [0.25, 0.35, 0.4]]), [-0.5, -0.05]
    )
    with pytest.raises(ValueError, match="at least two classes"):
        margin_utility([[1.0], [1.0]])


def test_entropy_utility_values():
    # ln 2 for a fair coin, ln 3 for three equal classes, 0 log 0 = 0.
    np.testing.assert_allclose(
        entropy_utility([[0.5, 0.5, 0.0], [1 / 3, 1 / 3, 1 / 3], [1.0, 0.0, 0.0]]),
        [math.log(2), math.log(3), 0.0],
    )


# --------------------------------------------------------------------------
# 3. Behaviour of the uncertainty strategies
# --------------------------------------------------------------------------


def _two_d_learner(seed=0):
    X, y, _ = make_biased_classification(
        300, n_features=2, group_shift=0.0, random_state=seed
    )
    learner = FairActiveClassifier(LogisticRegression()).fit(X[:60], y[:60])
    return learner, X[60:]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_entropy_picks_rows_nearest_the_decision_boundary(seed):
    learner, X_pool = _two_d_learner(seed)
    picks = entropy_sampling(learner, X_pool, 10, random_state=0)
    distance = np.abs(learner.decision_function(X_pool))
    # Best first: the picks are the 10 smallest |decision_function|, in order.
    np.testing.assert_array_equal(picks, np.argsort(distance, kind="stable")[:10])
    assert distance[picks].max() <= np.sort(distance)[9]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_uncertainty_and_margin_rank_like_entropy_for_two_classes(seed):
    learner, X_pool = _two_d_learner(seed)
    n_pool = len(X_pool)
    rankings = [
        s(learner, X_pool, n_pool, random_state=seed)
        for s in (entropy_sampling, margin_sampling, uncertainty_sampling)
    ]
    np.testing.assert_array_equal(rankings[0], rankings[1])
    np.testing.assert_array_equal(rankings[0], rankings[2])


def test_uncertainty_strategies_work_on_a_plain_classifier():
    # Any fitted object with predict_proba is a valid learner.
    X = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    clf = LogisticRegression().fit(X, [0, 0, 1, 1])
    pool = np.array([[-3.0], [0.1], [3.0], [-0.5]])
    for strategy in (entropy_sampling, margin_sampling, uncertainty_sampling):
        np.testing.assert_array_equal(strategy(clf, pool, 2), [1, 3])


def test_multiclass_strategies_differ_where_theory_says():
    # Row 0: (0.5, 0.5, 0): margin 0 (most ambiguous), entropy ln 2.
    # Row 1: (0.4, 0.3, 0.3): margin 0.1, entropy 1.089 (largest),
    # least confidence 0.6 (largest).
    class Fixed(ClassifierMixin, BaseEstimator):
        def fit(self, X, y):
            return self

        def predict_proba(self, X):
            return np.array([[0.5, 0.5, 0.0], [0.4, 0.3, 0.3]])

        def __sklearn_is_fitted__(self):
            return True

    pool = np.zeros((2, 1))
    assert margin_sampling(Fixed(), pool, 1)[0] == 0
    assert entropy_sampling(Fixed(), pool, 1)[0] == 1
    assert uncertainty_sampling(Fixed(), pool, 1)[0] == 1


def test_uncertainty_strategy_without_predict_proba_is_an_error():
    from sklearn.svm import LinearSVC

    clf = LinearSVC().fit([[0.0], [1.0]], [0, 1])
    with pytest.raises(TypeError, match="predict_proba"):
        entropy_sampling(clf, np.zeros((3, 1)), 1)


# --------------------------------------------------------------------------
# 4. select_top_k and random sampling
# --------------------------------------------------------------------------


def test_select_top_k_best_first():
    np.testing.assert_array_equal(select_top_k([0.1, 0.9, 0.5, 0.7], 3), [1, 3, 2])
    np.testing.assert_array_equal(select_top_k([-1.0, -3.0, -2.0], 3), [0, 2, 1])


def test_select_top_k_ties_depend_on_the_seed_reproducibly():
    utilities = np.zeros(50)
    by_seed = [tuple(select_top_k(utilities, 5, random_state=s)) for s in range(20)]
    assert len(set(by_seed)) == 20  # different seeds, different draws
    for s in range(20):
        assert tuple(select_top_k(utilities, 5, random_state=s)) == by_seed[s]
    rng_a, rng_b = np.random.RandomState(7), np.random.RandomState(7)
    np.testing.assert_array_equal(
        select_top_k(utilities, 5, random_state=rng_a),
        select_top_k(utilities, 5, random_state=rng_b),
    )


def test_select_top_k_tie_at_the_kth_value_is_uniform():
    # Rows 1..4 tie for the two places left after row 0: each is chosen with
    # probability 1/2; the strictly better row 0 always comes first.
    utilities = np.array([2.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0])
    n_seeds = 2000
    counts = np.zeros(len(utilities))
    for s in range(n_seeds):
        picks = select_top_k(utilities, 3, random_state=s)
        assert picks[0] == 0
        counts[picks] += 1
    assert counts[0] == n_seeds
    assert counts[5] == counts[6] == 0
    assert chisquare(counts[1:5]).pvalue > 1e-4
    np.testing.assert_allclose(counts[1:5] / n_seeds, 0.5, atol=0.05)


@settings(max_examples=60, deadline=None)
@given(
    utilities=st.lists(st.integers(0, 3), min_size=1, max_size=30),
    data=st.data(),
    seed=st.integers(0, 2**31 - 1),
)
def test_select_top_k_property(utilities, data, seed):
    utilities = np.asarray(utilities, dtype=float)
    k = data.draw(st.integers(1, len(utilities)))
    picks = select_top_k(utilities, k, random_state=seed)
    assert len(picks) == k
    assert len(np.unique(picks)) == k
    assert np.all(np.diff(utilities[picks]) <= 0)  # best first
    rest = np.setdiff1d(np.arange(len(utilities)), picks)
    if len(rest):
        assert utilities[picks].min() >= utilities[rest].max()


@pytest.mark.parametrize(
    ("utilities", "k", "match"),
    [
        ([0.1, np.nan], 1, "NaN"),
        ([[0.1, 0.2]], 1, "1-D"),
        ([0.1, 0.2], 3, "between 1 and the pool size"),
        ([0.1, 0.2], 0, "between 1 and the pool size"),
    ],
)
def test_select_top_k_bad_input(utilities, k, match):
    with pytest.raises(ValueError, match=match):
        select_top_k(utilities, k)


def test_random_sampling_is_uniform():
    learner, X_pool, _ = _fitted()
    X_pool = X_pool[:8]
    n_seeds = 1200
    first = np.zeros(8)
    included = np.zeros(8)
    for s in range(n_seeds):
        first[random_sampling(learner, X_pool, random_state=s)] += 1
        included[random_sampling(learner, X_pool, 3, random_state=s)] += 1
    # Loose bounds: a fixed set of seeds, so these never flake.
    assert chisquare(first).pvalue > 1e-4
    assert chisquare(included).pvalue > 1e-4
    np.testing.assert_allclose(first / n_seeds, 1 / 8, atol=0.04)
    np.testing.assert_allclose(included / n_seeds, 3 / 8, atol=0.06)


def test_random_sampling_ignores_the_model():
    # Same seed, same pool size: same picks whatever the learner predicts.
    a, X_a, _ = _fitted(seed=0)
    b, X_b, _ = _fitted(seed=1)
    np.testing.assert_array_equal(
        random_sampling(a, X_a, 10, random_state=5),
        random_sampling(b, X_b, 10, random_state=5),
    )


# --------------------------------------------------------------------------
# 5. Group-aware random sampling
# --------------------------------------------------------------------------


def _hard_group_problem(seed, n=400):
    # Group 1's labels are 40 % noise; group 0's are clean. Equal base rates,
    # so predicting the majority class does not hide group 1's errors.
    return make_biased_classification(
        n,
        group_proportions=(0.5, 0.5),
        base_rates=0.5,
        label_noise=(0.0, 0.4),
        random_state=seed,
    )


@pytest.mark.parametrize("seed", range(5))
def test_group_aware_queries_the_group_with_the_highest_error(seed):
    X, y, g = _hard_group_problem(seed)
    learner = FairActiveClassifier(LogisticRegression()).fit(
        X[:120], y[:120], sensitive_features=g[:120]
    )
    errors, pool_codes = GroupAwareRandomSampling().group_losses(
        learner, pool_sensitive_features=g[120:]
    )
    assert errors[1] > errors[0]
    np.testing.assert_array_equal(pool_codes, g[120:])
    picks = GroupAwareRandomSampling(cv=4)(
        learner, X[120:], 20, sensitive_features=g[120:], random_state=seed
    )
    assert np.all(g[120:][picks] == 1)


def test_group_aware_errors_are_out_of_fold():
    X, y, g = _hard_group_problem(0)
    learner = FairActiveClassifier(LogisticRegression()).fit(
        X[:90], y[:90], sensitive_features=g[:90]
    )
    predicted = cross_val_predict(
        LogisticRegression(), X[:90], y[:90], cv=StratifiedKFold(3)
    )
    wrong = predicted != y[:90]
    expected = [wrong[g[:90] == k].mean() for k in (0, 1)]
    errors, _ = GroupAwareRandomSampling(cv=3).group_losses(
        learner, pool_sensitive_features=g[90:]
    )
    np.testing.assert_allclose(errors, expected)


def test_group_aware_queries_an_unseen_group_first():
    X, y, g = make_biased_classification(
        300,
        group_proportions=(0.4, 0.4, 0.2),
        base_rates=0.5,
        label_noise=(0.0, 0.4, 0.0),
        random_state=0,
    )
    seen = g != 2
    labeled = np.flatnonzero(seen)[:100]
    pool = np.setdiff1d(np.arange(300), labeled)
    learner = FairActiveClassifier(LogisticRegression()).fit(
        X[labeled], y[labeled], sensitive_features=g[labeled]
    )
    n_unseen = int(np.sum(g[pool] == 2))
    picks = group_aware_random_sampling(
        learner, X[pool], n_unseen + 5, sensitive_features=g[pool], random_state=0
    )
    # Every row of the unseen group, then the worst seen group (the noisy one).
    assert np.all(g[pool][picks[:n_unseen]] == 2)
    assert np.all(g[pool][picks[n_unseen:]] == 1)


def test_group_aware_fills_the_batch_from_the_next_worst_group():
    X, y, g = _hard_group_problem(1)
    learner = FairActiveClassifier(LogisticRegression()).fit(
        X[:150], y[:150], sensitive_features=g[:150]
    )
    pool = np.concatenate(
        [np.flatnonzero(g[150:] == 1)[:3] + 150, np.flatnonzero(g[150:] == 0) + 150]
    )
    picks = group_aware_random_sampling(
        learner, X[pool], 10, sensitive_features=g[pool], random_state=0
    )
    np.testing.assert_array_equal(g[pool][picks], [1] * 3 + [0] * 7)


def test_group_aware_draws_uniformly_within_the_group():
    X, y, g = _hard_group_problem(2)
    learner = FairActiveClassifier(LogisticRegression()).fit(
        X[:150], y[:150], sensitive_features=g[:150]
    )
    X_pool, g_pool = X[150:], g[150:]
    draws = {
        tuple(
            group_aware_random_sampling(
                learner, X_pool, 3, sensitive_features=g_pool, random_state=s
            )
        )
        for s in range(10)
    }
    assert len(draws) == 10


def test_group_aware_draws_from_groups_of_equal_error_together():
    # Two groups without labeled rows tie as the worst: the batch mixes them
    # uniformly instead of exhausting one before the other.
    X, y, g = make_biased_classification(
        600,
        group_proportions=(0.5, 0.25, 0.25),
        base_rates=0.5,
        label_noise=0.0,
        random_state=0,
    )
    labeled = np.flatnonzero(g == 0)[:100]
    pool = np.setdiff1d(np.arange(600), labeled)
    learner = FairActiveClassifier(LogisticRegression()).fit(
        X[labeled], y[labeled], sensitive_features=g[labeled]
    )
    errors, _ = GroupAwareRandomSampling().group_losses(
        learner, pool_sensitive_features=g[pool]
    )
    assert np.isfinite(errors[0])
    assert np.isinf(errors[1:]).all()
    picks = GroupAwareRandomSampling()(
        learner, X[pool], 60, sensitive_features=g[pool], random_state=0
    )
    chosen = g[pool][picks]
    assert set(chosen) == {1, 2}
    assert 15 <= np.sum(chosen == 1) <= 45


def test_group_aware_is_min_max_with_its_fixed_settings():
    from sklearn.base import clone

    X, y, g = _hard_group_problem(3)
    learner = FairActiveClassifier(LogisticRegression()).fit(
        X[:120], y[:120], sensitive_features=g[:120]
    )
    strategy = GroupAwareRandomSampling(cv=4)
    assert isinstance(strategy, MinMaxSampling)
    assert strategy.get_params() == {"cv": 4}
    assert clone(strategy).get_params() == {"cv": 4}
    assert (strategy.p, strategy.loss, strategy.fairness_set) == (0.0, "zero_one", None)
    with pytest.raises(ValueError, match="Invalid parameter 'p'"):
        strategy.set_params(p=0.5)
    same = MinMaxSampling(p=0.0, loss="zero_one", cv=4)
    for seed in range(3):
        np.testing.assert_array_equal(
            strategy(
                learner, X[120:], 15, sensitive_features=g[120:], random_state=seed
            ),
            same(learner, X[120:], 15, sensitive_features=g[120:], random_state=seed),
        )


def test_group_aware_with_dataframe_sensitive_features():
    X, y, g = _hard_group_problem(0)
    groups = pd.DataFrame({"grp": g, "other": np.where(g == 1, "b", "a")})
    learner = FairActiveClassifier(LogisticRegression()).fit(
        X[:120], y[:120], sensitive_features=groups.iloc[:120]
    )
    picks = learner.query(X[120:], 5, sensitive_features=groups.iloc[120:])
    picks_ga = GroupAwareRandomSampling()(
        learner, X[120:], 5, sensitive_features=groups.iloc[120:], random_state=0
    )
    assert np.all(g[120:][picks_ga] == 1)
    assert len(picks) == 5


_GROUP_CONTAINERS = {
    "named Series": lambda a: pd.Series(a, name="sex"),
    "list": lambda a: a.tolist(),
    "ndarray": lambda a: a,
    "named DataFrame": lambda a: pd.DataFrame({"sex": a}),
}


@pytest.mark.parametrize(
    ("at_fit", "at_query"),
    [
        ("named Series", "list"),
        ("list", "named Series"),
        ("named DataFrame", "ndarray"),
        ("ndarray", "named DataFrame"),
    ],
)
def test_group_aware_aligns_groups_by_position_whatever_the_container(at_fit, at_query):
    # Regression: a named Series at fit and a list at query were stacked as
    # two frames with different column names, and the NaN-filled result was
    # reported as "sensitive_features contains missing values".
    X, y, g = _hard_group_problem(4)
    g = np.where(g == 1, "b", "a")

    def picks(fit_groups, query_groups):
        learner = FairActiveClassifier(
            LogisticRegression(), "group_aware_random", random_state=0
        ).fit(X[:120], y[:120], sensitive_features=fit_groups[:120])
        through_learner = learner.query(X[120:], 8, sensitive_features=query_groups)
        direct = group_aware_random_sampling(
            learner, X[120:], 8, sensitive_features=query_groups, random_state=0
        )
        return through_learner, direct

    fit_groups = _GROUP_CONTAINERS[at_fit](g)
    query_groups = _GROUP_CONTAINERS[at_query](g[120:])
    expected = picks(g, g[120:])
    for got, want in zip(picks(fit_groups, query_groups), expected):
        np.testing.assert_array_equal(got, want)
    assert set(g[120:][expected[0]]) == {"b"}


def test_group_aware_same_learner_seed_same_picks_and_repeats_a_round():
    X, y, g = _hard_group_problem(5)

    def learner(seed):
        return FairActiveClassifier(
            LogisticRegression(), "group_aware_random", random_state=seed
        ).fit(X[:120], y[:120], sensitive_features=g[:120])

    def query(fitted):
        return fitted.query(X[120:], 6, sensitive_features=g[120:])

    one, two = learner(0), learner(0)
    first = query(one)
    np.testing.assert_array_equal(first, query(two))
    np.testing.assert_array_equal(first, query(one))  # repeated, no teach
    # The seed matters: the draw within the group is the learner's.
    assert len({tuple(query(learner(s))) for s in range(5)}) > 1
    # After teach, the next round draws afresh (its own round seed).
    one.teach(X[120:][first], y[120:][first], sensitive_features=g[120:][first])
    rest = np.setdiff1d(np.arange(len(X) - 120), first)
    two.teach(X[120:][first], y[120:][first], sensitive_features=g[120:][first])
    np.testing.assert_array_equal(
        one.query(X[120:][rest], 6, sensitive_features=g[120:][rest]),
        two.query(X[120:][rest], 6, sensitive_features=g[120:][rest]),
    )


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_group_aware_rejects_a_pool_with_nan_or_infinity(bad):
    learner, X_pool, g_pool = _fitted()
    X_pool = X_pool.copy()
    X_pool[3, 1] = bad
    kind = "NaN" if np.isnan(bad) else "infinity"
    with pytest.raises(
        ValueError, match=f"X_pool contains {kind} \\(row 3, column 1\\)"
    ):
        group_aware_random_sampling(learner, X_pool, 2, sensitive_features=g_pool)


def test_group_aware_needs_sensitive_features():
    learner, X_pool, g_pool = _fitted()
    with pytest.raises(ValueError, match="sensitive_features for the pool"):
        group_aware_random_sampling(learner, X_pool, 1)
    X, y, _ = _data()
    no_groups = FairActiveClassifier(LogisticRegression()).fit(X[:60], y[:60])
    with pytest.raises(
        ValueError, match="sensitive features of the labeled rows: pass"
    ):
        group_aware_random_sampling(no_groups, X[60:], 1, sensitive_features=g_pool)
    with pytest.raises(ValueError, match="sensitive_features has 3 rows but 140"):
        group_aware_random_sampling(learner, X_pool, 1, sensitive_features=g_pool[:3])


def test_group_aware_cv_is_validated():
    learner, X_pool, g_pool = _fitted()
    with pytest.raises(InvalidParameterError, match="'cv' parameter"):
        GroupAwareRandomSampling(cv=1)(learner, X_pool, 1, sensitive_features=g_pool)


def test_group_aware_with_too_few_labels_for_cv_uses_in_sample_errors():
    X, y, g = _data()
    labeled = np.concatenate([np.flatnonzero(y == 1)[:1], np.flatnonzero(y == 0)[:9]])
    learner = FairActiveClassifier(LogisticRegression()).fit(
        X[labeled], y[labeled], sensitive_features=g[labeled]
    )
    wrong = learner.predict(X[labeled]) != y[labeled]
    expected = [wrong[g[labeled] == k].mean() for k in (0, 1)]
    errors, _ = GroupAwareRandomSampling().group_losses(
        learner, pool_sensitive_features=g
    )
    np.testing.assert_allclose(errors, expected)


# --------------------------------------------------------------------------
# 6. Registry and callables
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "function"),
    [
        ("random", random_sampling),
        ("uncertainty", uncertainty_sampling),
        ("margin", margin_sampling),
        ("entropy", entropy_sampling),
    ],
)
def test_registry_maps_names_to_functions(name, function):
    assert get_strategy(name) is function
    seeds = []

    def spy(learner, X_pool, n_instances, *, sensitive_features, random_state):
        seeds.append(random_state)
        return function(learner, X_pool, n_instances, random_state=random_state)

    learner, X_pool, g_pool = _fitted(strategy=name)
    picks = learner.query(X_pool, 5, sensitive_features=g_pool)
    learner.set_params(query_strategy=spy).fit(
        learner.X_labeled_,
        learner.y_labeled_,
        sensitive_features=learner.history_[0]["groups"],
    )
    np.testing.assert_array_equal(
        learner.query(X_pool, 5, sensitive_features=g_pool), picks
    )
    # The learner hands its strategy the round's seed, an int.
    assert isinstance(seeds[0], int)
    np.testing.assert_array_equal(
        function(learner, X_pool, 5, random_state=seeds[0]), picks
    )


def test_registry_instantiates_classes_fresh():
    first = get_strategy("group_aware_random")
    second = get_strategy("group_aware_random")
    assert isinstance(first, GroupAwareRandomSampling)
    assert first is not second
    assert first.get_params() == GroupAwareRandomSampling().get_params()


def test_unknown_strategy_name_lists_the_known_names():
    with pytest.raises(ValueError, match=r"'nope' is not a known.*'entropy'.*'margin'"):
        get_strategy("nope")


def test_strategy_class_instead_of_instance_is_an_error():
    with pytest.raises(TypeError, match=r"is a class; pass an instance"):
        get_strategy(GroupAwareRandomSampling)


def test_non_callable_strategy_is_an_error():
    with pytest.raises(TypeError, match="query_strategy must be a strategy name"):
        get_strategy(42)


def _first_rows(learner, X_pool, n_instances=1, *, sensitive_features=None, **kw):
    return np.arange(n_instances)


def test_register_and_unregister_a_strategy():
    register_strategy("first_rows_test", _first_rows)
    try:
        assert "first_rows_test" in available_strategies()
        learner, X_pool, _ = _fitted(strategy="first_rows_test")
        np.testing.assert_array_equal(learner.query(X_pool, 3), [0, 1, 2])
        with pytest.raises(ValueError, match="already registered"):
            register_strategy("first_rows_test", _first_rows)
    finally:
        unregister_strategy("first_rows_test")
    assert "first_rows_test" not in available_strategies()
    with pytest.raises(ValueError, match="no query strategy named"):
        unregister_strategy("first_rows_test")
    with pytest.raises(ValueError, match="built-in strategy"):
        unregister_strategy("entropy")
    with pytest.raises(TypeError, match="strategy must be callable"):
        register_strategy("not_callable_test", 3)
    with pytest.raises(ValueError, match="non-empty string"):
        register_strategy("", _first_rows)


def test_callable_strategy_is_accepted():
    learner, X_pool, _ = _fitted(strategy=_first_rows)
    np.testing.assert_array_equal(learner.query(X_pool, 4), [0, 1, 2, 3])


@pytest.mark.parametrize(
    "bad_return",
    [
        lambda n: np.zeros(n, dtype=int),  # duplicates
        lambda n: np.arange(n) + 1000,  # outside the pool
        lambda n: np.arange(n + 1),  # too many
        lambda n: np.arange(n, dtype=float),  # not integers
    ],
)
def test_a_misbehaving_callable_is_caught(bad_return):
    def strategy(learner, X_pool, n_instances=1, **kwargs):
        return bad_return(n_instances)

    learner, X_pool, _ = _fitted(strategy=strategy)
    with pytest.raises(RuntimeError, match="distinct integer row indices"):
        learner.query(X_pool, 3)
