"""Tests for FALCURSampling: fair clusters, the score, the selection, the contract.

Expected values come from the definitions (group counts, the entropy of the
base estimator's own probabilities, a brute-force greedy), never from the
output of the code under test.
"""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from skfairal import FairActiveClassifier
from skfairal.datasets import load_adult, make_biased_classification
from skfairal.metrics import equalized_odds_difference
from skfairal.query import FALCURSampling, get_strategy
from skfairal.query._fal_cur import _capacities, _stable_assignment


def _fitted(n=1200, seed=0, group_shift=2.0, n_labeled=60, **kwargs):
    """A learner on the first rows of a problem whose proxy feature separates
    the groups (so plain k-means makes one-group clusters), and the pool."""
    X, y, g = make_biased_classification(
        n, group_shift=group_shift, random_state=seed, **kwargs
    )
    learner = FairActiveClassifier(LogisticRegression(), random_state=0)
    learner.fit(X[:n_labeled], y[:n_labeled], sensitive_features=g[:n_labeled])
    return learner, X[n_labeled:], g[n_labeled:]


def _entropy(proba):
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(proba > 0, -proba * np.log(proba), 0.0)
    return terms.sum(axis=1) / np.log(proba.shape[1])


# -- fair clusters ------------------------------------------------------------------


@pytest.mark.parametrize("n_clusters", [5, 20])
def test_every_cluster_holds_each_group_in_its_pool_share(n_clusters):
    learner, X_pool, g_pool = _fitted()
    strategy = FALCURSampling(n_clusters=n_clusters)
    clusters, _ = strategy.cluster_scores(
        learner, X_pool, 10, sensitive_features=g_pool, random_state=0
    )
    assert set(clusters.tolist()) == set(range(n_clusters))
    n = len(g_pool)
    for c in range(n_clusters):
        size = np.sum(clusters == c)
        for group in (0, 1):
            share = np.mean(g_pool == group)
            # Seats are whole rows: within rounding of the exact share.
            assert abs(np.sum((clusters == c) & (g_pool == group)) - share * size) <= 2
    assert n == np.sum(clusters >= 0)


def test_plain_kmeans_clusters_are_not_balanced_on_the_same_pool():
    """The ablation: without the fair assignment the proxy splits the groups,
    so the balance above is the fair assignment's doing."""
    learner, X_pool, g_pool = _fitted()
    clusters, _ = FALCURSampling(n_clusters=20, fair_clustering=False).cluster_scores(
        learner, X_pool, 10, sensitive_features=g_pool, random_state=0
    )
    shares = np.array([g_pool[clusters == c].mean() for c in range(20)])
    assert np.max(np.abs(shares - g_pool.mean())) > 0.4


def test_three_groups_and_two_sensitive_columns_are_balanced():
    X, y, g = make_biased_classification(
        1500,
        group_proportions=(0.5, 0.3, 0.2),
        base_rates=0.4,
        label_noise=0.05,
        group_shift=2.0,
        random_state=1,
    )
    learner = FairActiveClassifier(LogisticRegression()).fit(
        X[:90], y[:90], sensitive_features=g[:90]
    )
    extra = np.arange(len(g) - 90) % 2  # a second column: six groups in all
    columns = np.column_stack([g[90:], extra])
    clusters, _ = FALCURSampling(n_clusters=8).cluster_scores(
        learner, X[90:], 8, sensitive_features=columns, random_state=0
    )
    cells = g[90:] * 2 + extra
    for c in range(8):
        size = np.sum(clusters == c)
        for cell in range(6):
            expected = np.mean(cells == cell) * size
            assert abs(np.sum((clusters == c) & (cells == cell)) - expected) <= 6


def _greedy(cost, codes, seats):
    """Closest (row, cluster) pairs first, each row once, each group's seats
    in a cluster at most: the greedy the stable assignment must equal."""
    seats = seats.copy()
    out = np.full(len(cost), -1)
    for flat in np.argsort(cost, axis=None, kind="stable"):
        i, c = divmod(int(flat), cost.shape[1])
        if out[i] < 0 and seats[codes[i], c] > 0:
            out[i] = c
            seats[codes[i], c] -= 1
    return out


@pytest.mark.parametrize("seed", range(5))
def test_the_stable_assignment_is_the_closest_pairs_first_greedy(seed):
    rng = np.random.RandomState(seed)
    n, k = 60, 5
    cost = rng.random_sample((n, k))  # distinct costs: one stable assignment
    codes = (rng.random_sample(n) < 0.3).astype(np.intp)
    codes[:2] = [0, 1]
    shares = rng.dirichlet(np.ones(k))
    seats = _capacities(np.bincount(codes), shares)
    np.testing.assert_array_equal(seats.sum(axis=1), np.bincount(codes))
    placed = _stable_assignment(cost, codes, seats)
    np.testing.assert_array_equal(placed, _greedy(cost, codes, seats))
    counts = np.zeros_like(seats)
    np.add.at(counts, (codes, placed), 1)
    np.testing.assert_array_equal(counts, seats)


# -- the score and the selection ------------------------------------------------------


def test_beta_zero_scores_the_normalised_entropy():
    learner, X_pool, g_pool = _fitted()
    _, scores = FALCURSampling(beta=0.0).cluster_scores(
        learner, X_pool, 10, sensitive_features=g_pool, random_state=0
    )
    expected = _entropy(learner.estimator_.predict_proba(X_pool))
    np.testing.assert_allclose(scores, expected, atol=1e-12)


def test_beta_one_scores_the_similarity_to_the_clusters_mean():
    learner, X_pool, g_pool = _fitted()
    clusters, scores = FALCURSampling(beta=1.0, n_clusters=6).cluster_scores(
        learner, X_pool, 6, sensitive_features=g_pool, random_state=0
    )
    for c in range(6):
        members = X_pool[clusters == c]
        distance = np.linalg.norm(members - members.mean(axis=0), axis=1)
        near, far = distance.min(), distance.max()
        # 1 for the most central row, 0 for the farthest.
        np.testing.assert_allclose(
            scores[clusters == c], (far - distance) / (far - near), atol=1e-9
        )


def test_distance_scores_the_complement_of_the_similarity():
    learner, X_pool, g_pool = _fitted()
    kwargs = dict(beta=1.0, n_clusters=6)
    clusters, similarity = FALCURSampling(**kwargs).cluster_scores(
        learner, X_pool, 6, sensitive_features=g_pool, random_state=0
    )
    same, distance = FALCURSampling(
        representativeness="distance", **kwargs
    ).cluster_scores(learner, X_pool, 6, sensitive_features=g_pool, random_state=0)
    np.testing.assert_array_equal(clusters, same)
    np.testing.assert_allclose(distance, 1.0 - similarity, atol=1e-12)


def test_each_pick_is_the_best_scored_row_of_its_own_cluster():
    learner, X_pool, g_pool = _fitted()
    strategy = FALCURSampling(n_clusters=8)
    clusters, scores = strategy.cluster_scores(
        learner, X_pool, 8, sensitive_features=g_pool, random_state=4
    )
    picks = strategy(learner, X_pool, 8, sensitive_features=g_pool, random_state=4)
    assert sorted(clusters[picks].tolist()) == list(range(8))
    for row in picks:
        assert scores[row] == scores[clusters == clusters[row]].max()
    # Best first: the clusters whose best rows score highest.
    assert np.all(np.diff(scores[picks]) <= 0)


def test_a_batch_larger_than_the_clusters_goes_round_robin():
    learner, X_pool, g_pool = _fitted()
    strategy = FALCURSampling(n_clusters=4)
    clusters, scores = strategy.cluster_scores(
        learner, X_pool, 10, sensitive_features=g_pool, random_state=2
    )
    picks = strategy(learner, X_pool, 10, sensitive_features=g_pool, random_state=2)
    # Four firsts, four seconds, then the two best thirds.
    assert sorted(clusters[picks[:4]].tolist()) == [0, 1, 2, 3]
    assert sorted(clusters[picks[4:8]].tolist()) == [0, 1, 2, 3]
    for c in range(4):
        ranked = np.sort(scores[clusters == c])[::-1]
        mine = np.sort(scores[picks[clusters[picks] == c]])[::-1]
        np.testing.assert_allclose(mine, ranked[: len(mine)])


def test_more_clusters_than_rows_takes_the_clusters_with_the_best_rows():
    learner, X_pool, g_pool = _fitted()
    strategy = FALCURSampling(n_clusters=12)
    clusters, scores = strategy.cluster_scores(
        learner, X_pool, 3, sensitive_features=g_pool, random_state=0
    )
    picks = strategy(learner, X_pool, 3, sensitive_features=g_pool, random_state=0)
    best = np.array([scores[clusters == c].max() for c in range(12)])
    np.testing.assert_allclose(scores[picks], np.sort(best)[::-1][:3])
    assert len(set(clusters[picks].tolist())) == 3


def test_picks_spread_over_the_clusters_where_entropys_crowd():
    """One row per fair cluster: the batch covers the pool, where entropy's
    top rows crowd into the clusters the decision boundary crosses."""
    learner, X_pool, g_pool = _fitted(n=2000)
    strategy = FALCURSampling()
    clusters, _ = strategy.cluster_scores(
        learner, X_pool, 20, sensitive_features=g_pool, random_state=0
    )
    picks = strategy(learner, X_pool, 20, sensitive_features=g_pool, random_state=0)
    by_entropy = get_strategy("entropy")(learner, X_pool, 20, random_state=0)
    assert len(set(clusters[picks].tolist())) == 20
    assert len(set(clusters[by_entropy].tolist())) <= 16  # 14 when written


def test_max_candidates_bounds_the_rows_scored():
    learner, X_pool, g_pool = _fitted()
    strategy = FALCURSampling(max_candidates=200)
    clusters, scores = strategy.cluster_scores(
        learner, X_pool, 5, sensitive_features=g_pool, random_state=0
    )
    assert np.sum(clusters >= 0) == 200
    assert np.isnan(scores[clusters < 0]).all()
    picks = strategy(learner, X_pool, 5, sensitive_features=g_pool, random_state=0)
    assert (clusters[picks] >= 0).all()
    # Never fewer candidates than rows asked for.
    picks = FALCURSampling(max_candidates=3)(
        learner, X_pool, 7, sensitive_features=g_pool, random_state=0
    )
    assert len(np.unique(picks)) == 7
    # "auto" scores the whole of a small pool; so does None.
    for bound in ("auto", None):
        clusters, _ = FALCURSampling(max_candidates=bound).cluster_scores(
            learner, X_pool, 5, sensitive_features=g_pool, random_state=0
        )
        assert (clusters >= 0).all()


# -- what it buys --------------------------------------------------------------------


def _eo_after_active_learning(strategy, seed):
    """Ten rounds of ten from a biased 40-row seed set (4 rows of the smaller
    group), scored on test rows no strategy saw."""
    X, y, g = make_biased_classification(4000, random_state=seed)
    rng = np.random.RandomState(seed)
    order = rng.permutation(len(y))
    seed_rows = np.r_[order[g[order] == 1][:4], order[g[order] == 0][:36]]
    rest = rng.permutation(np.setdiff1d(order, seed_rows))
    pool, test = rest[:2000], rest[2000:]
    learner = FairActiveClassifier(LogisticRegression(), strategy, random_state=seed)
    learner.fit(X[seed_rows], y[seed_rows], sensitive_features=g[seed_rows])
    for _ in range(10):
        picks = learner.query(X[pool], 10, sensitive_features=g[pool])
        rows = pool[picks]
        learner.teach(X[rows], y[rows], sensitive_features=g[rows])
        pool = np.delete(pool, picks)
    pred = learner.predict(X[test])
    return equalized_odds_difference(y[test], pred, sensitive_features=g[test])


def test_fal_cur_lowers_equalized_odds_against_entropy_and_plain_clusters():
    # Six seeds when written: entropy 0.187, FAL-CUR on plain k-means 0.159,
    # FAL-CUR 0.100 (ten seeds: 0.189, 0.167, 0.105; accuracy 0.82 for all).
    seeds = range(6)

    def mean_eo(make):
        return np.mean([_eo_after_active_learning(make(), s) for s in seeds])

    fal_cur = mean_eo(FALCURSampling)
    assert fal_cur < mean_eo(lambda: "entropy") - 0.04
    # The fair clusters do it: the ablation keeps the rest of the method.
    assert fal_cur < mean_eo(lambda: FALCURSampling(fair_clustering=False)) - 0.02


# -- the contract --------------------------------------------------------------------


@pytest.fixture(scope="module")
def adult():
    bunch = load_adult(as_frame=True)
    rng = np.random.RandomState(0)
    rows = rng.choice(np.flatnonzero(~bunch.is_test), 1500, replace=False)
    X = bunch.data.iloc[rows].reset_index(drop=True)
    y = bunch.target.iloc[rows].to_numpy()
    sex = bunch.sensitive_features["sex"].iloc[rows].astype(str).to_numpy()
    return X, y, sex, bunch.categorical_features, bunch.numerical_features


@pytest.mark.parametrize("sparse", [False, True])
def test_adult_dataframe_through_a_column_transformer_pipeline(adult, sparse):
    X, y, sex, categorical, numerical = adult
    encode = ColumnTransformer(
        [
            ("cat", OneHotEncoder(handle_unknown="ignore"), categorical),
            ("num", StandardScaler(), numerical),
        ],
        sparse_threshold=1.0 if sparse else 0.0,
    )
    pipe = Pipeline([("encode", encode), ("model", LogisticRegression())])
    assert not pd.api.types.is_numeric_dtype(X[categorical[0]])  # text, as read
    learner = FairActiveClassifier(pipe, FALCURSampling(n_clusters=6), random_state=0)
    learner.fit(X.iloc[:100], y[:100], sensitive_features=sex[:100])
    X_pool, g_pool = X.iloc[100:], sex[100:]
    if sparse:
        assert scipy.sparse.issparse(learner.strategy_view().features(X_pool))
    picks = learner.query(X_pool, 6, sensitive_features=g_pool)
    assert len(np.unique(picks)) == 6
    np.testing.assert_array_equal(
        picks, learner.query(X_pool, 6, sensitive_features=g_pool)
    )
    clusters, _ = learner.query_strategy.cluster_scores(
        learner, X_pool, 6, sensitive_features=g_pool, random_state=0
    )
    women = np.mean(g_pool == "Female")
    for c in range(6):
        size = np.sum(clusters == c)
        assert abs(np.sum((clusters == c) & (g_pool == "Female")) - women * size) <= 2
    # The features are the Pipeline's: the same numbers, encoded by hand and
    # given to a plain model, cluster alike.
    encoded = learner.estimator_[:-1].transform(X)
    plain = FairActiveClassifier(LogisticRegression(), random_state=0).fit(
        encoded[:100], y[:100], sensitive_features=sex[:100]
    )
    same, _ = FALCURSampling(n_clusters=6).cluster_scores(
        plain, encoded[100:], 6, sensitive_features=g_pool, random_state=0
    )
    np.testing.assert_array_equal(clusters, same)


def test_same_seed_same_picks_another_seed_other_picks():
    learner, X_pool, g_pool = _fitted()
    strategy = FALCURSampling()

    def picks(seed):
        return strategy(
            learner, X_pool, 10, sensitive_features=g_pool, random_state=seed
        )

    np.testing.assert_array_equal(picks(3), picks(3))
    assert any(not np.array_equal(picks(3), picks(s)) for s in (4, 5, 6))
    # The strategy's own seed is used when the call gives none.
    own = FALCURSampling(random_state=3)
    np.testing.assert_array_equal(
        own(learner, X_pool, 10, sensitive_features=g_pool), picks(3)
    )


def test_multiclass_entropy_is_normalised_by_log_k():
    rng = np.random.RandomState(0)
    X = rng.standard_normal((400, 4))
    y = np.digitize(X[:, 0], [-0.5, 0.5])
    g = (X[:, 3] > 0).astype(int)
    learner = FairActiveClassifier(LogisticRegression()).fit(
        X[:60], y[:60], sensitive_features=g[:60]
    )
    _, scores = FALCURSampling(beta=0.0).cluster_scores(
        learner, X[60:], 5, sensitive_features=g[60:], random_state=0
    )
    np.testing.assert_allclose(
        scores, _entropy(learner.estimator_.predict_proba(X[60:])), atol=1e-12
    )
    assert scores.max() <= 1.0


def test_beta_is_tunable_in_grid_search():
    X, y, g = make_biased_classification(400, random_state=0)
    learner = FairActiveClassifier(
        LogisticRegression(), FALCURSampling(), budget=10, batch_size=5, random_state=0
    )
    search = GridSearchCV(
        learner, {"query_strategy__beta": [0.2, 0.6]}, cv=2, error_score="raise"
    )
    search.fit(X, y, sensitive_features=g)
    assert search.best_estimator_.query_strategy_.beta in (0.2, 0.6)


def test_one_group_is_an_error_unless_the_clustering_is_plain():
    learner, X_pool, _ = _fitted()
    one = np.zeros(len(X_pool))
    with pytest.raises(ValueError, match=r"sensitive_features.*one group \(0\.0\)"):
        FALCURSampling()(learner, X_pool, 3, sensitive_features=one, random_state=0)
    picks = FALCURSampling(fair_clustering=False)(
        learner, X_pool, 3, sensitive_features=one, random_state=0
    )
    assert len(np.unique(picks)) == 3


def test_the_pools_groups_are_required_and_checked():
    learner, X_pool, g_pool = _fitted()
    with pytest.raises(ValueError, match="FALCURSampling needs sensitive_features"):
        FALCURSampling()(learner, X_pool, 3)
    with pytest.raises(ValueError, match="sensitive_features"):
        FALCURSampling()(learner, X_pool, 3, sensitive_features=g_pool[:-1])
    bad = g_pool.astype(float)
    bad[4] = np.nan
    with pytest.raises(ValueError, match="missing values"):
        FALCURSampling()(learner, X_pool, 3, sensitive_features=bad)


@pytest.mark.parametrize(
    "params",
    [
        {"beta": 1.5},
        {"beta": -0.1},
        {"n_clusters": 0},
        {"max_candidates": 0},
        {"max_candidates": "all"},
        {"fair_clustering": "yes"},
        {"representativeness": "density"},
    ],
)
def test_bad_parameters_are_named(params):
    learner, X_pool, g_pool = _fitted()
    (name,) = params
    with pytest.raises(InvalidParameterError, match=name):
        FALCURSampling(**params)(learner, X_pool, 3, sensitive_features=g_pool)


def test_a_pool_with_nan_is_rejected_before_any_clustering():
    learner, X_pool, g_pool = _fitted()
    bad = X_pool.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match=r"X_pool contains NaN \(row 3, column 1\)"):
        FALCURSampling()(learner, bad, 3, sensitive_features=g_pool)
