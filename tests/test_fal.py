"""Tests for FAL, fair active learning (skfairal.query.FALSampling)."""

import sys
import warnings
from dataclasses import dataclass

import numpy as np
import pytest
from scipy.stats import spearmanr
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.tree import DecisionTreeClassifier

from skfairal import FairActiveClassifier
from skfairal.datasets import make_biased_classification
from skfairal.metrics import (
    demographic_parity_difference,
    equalized_odds_difference,
    error_rate_balance_difference,
)
from skfairal.query import (
    FALSampling,
    LearnerView,
    QueryContext,
    QueryCostWarning,
    entropy_sampling,
    final_estimator,
    get_strategy,
)
from skfairal.query._uncertainty import entropy_utility
from skfairal.utils import select_top_k


def _fitted(n=300, n_labeled=40, seed=0, estimator=None, **data_kwargs):
    """A learner fitted on the first rows; the pool and its groups (the rest)."""
    X, y, g = make_biased_classification(n, random_state=seed, **data_kwargs)
    learner = FairActiveClassifier(
        estimator if estimator is not None else LogisticRegression(max_iter=1000)
    )
    learner.fit(X[:n_labeled], y[:n_labeled], sensitive_features=g[:n_labeled])
    return learner, X[n_labeled:], g[n_labeled:]


_REFERENCE = {
    "demographic_parity": demographic_parity_difference,
    "equalized_odds": equalized_odds_difference,
    "error_rate_balance": error_rate_balance_difference,
}


def _refit_unfairness(learner, x, metric, X_c, g_c, y_c=None):
    """E(x) by hand: refit for both labels, weight by p(y | x)."""
    proba = learner.predict_proba(x[None, :])[0]
    total = 0.0
    for label in (0, 1):
        model = clone(learner.estimator_).fit(
            np.vstack([learner.X_labeled_, x]), np.append(learner.y_encoded_, label)
        )
        pred = model.predict(X_c)
        value = metric(y_c, pred, sensitive_features=g_c)
        total += proba[label] * value
    return total


# --------------------------------------------------------------------------
# Registry and estimator basics
# --------------------------------------------------------------------------


def test_registered_as_fal():
    strategy = get_strategy("fal")
    assert isinstance(strategy, FALSampling)
    assert strategy.get_params() == FALSampling().get_params()
    assert clone(FALSampling(alpha=0.3)).alpha == 0.3


# --------------------------------------------------------------------------
# The defaults: "fal" as typed is cheap on any pool and any model
# --------------------------------------------------------------------------


_FITS = []


class _CountingLogisticRegression(LogisticRegression):
    def fit(self, X, y, sample_weight=None):
        _FITS.append(len(y))
        return super().fit(X, y, sample_weight=sample_weight)


def _minmax(values):
    span = np.ptp(values)
    return np.zeros(len(values)) if span == 0 else (values - values.min()) / span


def test_the_default_is_fast_nested_fal_on_a_bounded_fairness_set(monkeypatch):
    params = FALSampling().get_params()
    assert (params["method"], params["n_candidates"]) == ("auto", 64)
    assert (params["max_fairness_rows"], params["alpha"]) == (2000, 0.6)
    # A pool larger than both bounds, and a logistic regression: no refit,
    # one Newton step for each of the 64 candidates, read on 2,000 rows.
    learner, X_pool, g_pool = _fitted(
        n=2300, estimator=_CountingLogisticRegression(max_iter=1000)
    )
    from skfairal.query._influence import LogisticInfluence

    read = []
    unfairness = LogisticInfluence.unfairness

    def recording(self, X_candidates, X_fair, *args, **kwargs):
        read.append((len(X_candidates), len(X_fair)))
        return unfairness(self, X_candidates, X_fair, *args, **kwargs)

    monkeypatch.setattr(LogisticInfluence, "unfairness", recording)
    _FITS.clear()
    picks = get_strategy("fal")(
        learner, X_pool, 10, sensitive_features=g_pool, random_state=0
    )
    assert _FITS == []
    assert read == [(64, 2000)]
    explicit = FALSampling(method="fast", n_candidates=64, max_fairness_rows=2000)
    np.testing.assert_array_equal(
        explicit(learner, X_pool, 10, sensitive_features=g_pool, random_state=0),
        picks,
    )
    top = select_top_k(
        entropy_utility(learner.predict_proba(X_pool)), 64, random_state=0
    )
    assert set(picks) <= set(top)


class _CountingTree(DecisionTreeClassifier):
    def fit(self, X, y, sample_weight=None, check_input=True):
        _FITS.append(len(y))
        return super().fit(X, y, sample_weight=sample_weight, check_input=check_input)


@pytest.mark.parametrize(
    "estimator",
    [
        make_pipeline(StandardScaler(), _CountingTree(max_depth=3, random_state=0)),
        # A logistic regression the Newton step cannot read.
        _CountingLogisticRegression(class_weight="balanced"),
    ],
    ids=["tree", "class_weight"],
)
def test_auto_refits_a_model_fast_cannot_read_over_the_same_candidates(estimator):
    learner, X_pool, g_pool = _fitted(n=300, estimator=estimator)
    _FITS.clear()
    picks = FALSampling()(learner, X_pool, 5, sensitive_features=g_pool, random_state=0)
    # Exact Nested FAL: two refits of each of the 64 candidates.
    assert len(_FITS) == 128
    assert set(_FITS) == {len(learner.y_encoded_) + 1}
    exact = FALSampling(method="exact", n_candidates=64, max_fairness_rows=2000)
    np.testing.assert_array_equal(
        exact(learner, X_pool, 5, sensitive_features=g_pool, random_state=0), picks
    )


def test_fal_by_name_simulates_with_a_tree():
    X, y, g = make_biased_classification(200, random_state=1)
    run = FairActiveClassifier(
        DecisionTreeClassifier(max_depth=3, random_state=0),
        "fal",
        budget=10,
        batch_size=5,
        initial_size=40,
        random_state=0,
    ).fit(X, y, sensitive_features=g)
    assert len(run.y_labeled_) == 50
    chosen = np.concatenate([h["indices"] for h in run.history_[1:]])
    assert len(np.unique(chosen)) == 10


def test_the_paper_variant_refits_every_pool_row_on_the_whole_pool():
    # 35 pool rows, 70 refits. A tight tolerance makes the warm-started
    # refits and the reference's cold ones agree on every prediction.
    tight = LogisticRegression(tol=1e-10, max_iter=10_000)
    learner, X_pool, g_pool = _fitted(n=75, estimator=tight)
    paper = FALSampling(method="exact", n_candidates=None, max_fairness_rows=None)
    E = np.array(
        [
            _refit_unfairness(learner, x, demographic_parity_difference, X_pool, g_pool)
            for x in X_pool
        ]
    )
    np.testing.assert_allclose(
        paper.expected_unfairness(learner, X_pool, sensitive_features=g_pool), E
    )
    H = entropy_utility(learner.predict_proba(X_pool))
    score = 0.6 * _minmax(H) + 0.4 * (1 - _minmax(E))
    np.testing.assert_array_equal(
        paper(learner, X_pool, 8, sensitive_features=g_pool, random_state=0),
        select_top_k(score, 8, random_state=0),
    )


def _large_pool(n_pool=5100, n_labeled=60):
    X, y, g = make_biased_classification(n_pool + n_labeled, random_state=0)
    learner = FairActiveClassifier(LogisticRegression()).fit(
        X[:n_labeled], y[:n_labeled], sensitive_features=g[:n_labeled]
    )
    return learner, X[n_labeled:], g[n_labeled:], (X, y, g)


def _cost_warnings(record):
    return [w for w in record if issubclass(w.category, QueryCostWarning)]


def test_scoring_a_whole_large_pool_warns_once_with_its_cost_and_the_fix():
    # The real threshold: fast FAL over every row of a 5,100-row pool (a
    # small fairness sample keeps the test cheap).
    learner, X_pool, g_pool, (X, y, g) = _large_pool()
    fal = FALSampling(method="fast", n_candidates=None, max_fairness_rows=50)
    match = (
        r"FALSampling\(method='fast', n_candidates=None\) scores 5,100 of the "
        r"5,100 pool rows per query: 5,100 Newton steps, each read on up to 50 "
        r"fairness rows .* Pass n_candidates=64"
    )
    with pytest.warns(QueryCostWarning, match=match):
        fal(learner, X_pool, 5, sensitive_features=g_pool, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", QueryCostWarning)
        # The same instance has warned; the defaults bound the work; alpha=1
        # computes no unfairness.
        fal(learner, X_pool, 5, sensitive_features=g_pool, random_state=0)
        fal(learner, X_pool, 5, sensitive_features=g_pool, random_state=1)
        FALSampling()(learner, X_pool, 5, sensitive_features=g_pool)
        FALSampling(alpha=1.0, n_candidates=None)(
            learner, X_pool, 5, sensitive_features=g_pool
        )
    # Once per run: a simulation of three rounds warns at its first query, and
    # a clone (a new run) warns again.
    for strategy in (fal, clone(fal)):
        with pytest.warns(QueryCostWarning) as record:
            FairActiveClassifier(
                LogisticRegression(),
                clone(strategy),
                budget=15,
                batch_size=5,
                initial_size=60,
                random_state=0,
            ).fit(X, y, sensitive_features=g)
        assert len(_cost_warnings(record)) == 1


def test_exact_over_a_large_pool_warns_with_its_refits(monkeypatch):
    # 2 x 5,000 refits is too slow for a test: the threshold is lowered.
    monkeypatch.setattr("skfairal.query._fal._COST_WARN_ROWS", 20)
    learner, X_pool, g_pool = _fitted(n=70)
    fal = FALSampling(method="exact", n_candidates=None)
    match = r"60 refits of the base estimator.*n_candidates=64 .*\(128 refits\)"
    with pytest.warns(QueryCostWarning, match=match):
        picks = fal(learner, X_pool, 3, sensitive_features=g_pool, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", QueryCostWarning)
        again = fal(learner, X_pool, 3, sensitive_features=g_pool, random_state=0)
    # Warned or not, the picks are the same.
    np.testing.assert_array_equal(again, picks)


@dataclass(frozen=True)
class _VerboseContext(QueryContext):
    verbose: bool = True


@pytest.mark.parametrize("tqdm_installed", [True, False])
@pytest.mark.parametrize(
    ("method", "unit"), [("exact", "refits"), ("fast", "Newton steps")]
)
def test_verbose_shows_the_progress_of_a_slow_query(
    method, unit, tqdm_installed, monkeypatch, capsys
):
    # Every query is "slow" here; by default progress shows after 2 s.
    monkeypatch.setattr("skfairal.query._fal._PROGRESS_DELAY", 0.0)
    if not tqdm_installed:
        monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    learner, X_pool, g_pool = _fitted(n=70)
    fal = FALSampling(method=method, n_candidates=None)
    fal(learner, X_pool, 2, sensitive_features=g_pool, random_state=0)
    assert capsys.readouterr().err == ""  # verbose is off

    def verbose_view(strategy_name="the query strategy"):
        context = _VerboseContext(round=1, n_labeled=len(learner.y_encoded_))
        return LearnerView(learner, context, strategy_name=strategy_name)

    monkeypatch.setattr(learner, "strategy_view", verbose_view)
    fal(learner, X_pool, 2, sensitive_features=g_pool, random_state=0)
    err = capsys.readouterr().err
    assert "FALSampling" in err
    assert unit in err
    if not tqdm_installed:
        total = 2 * len(X_pool) if method == "exact" else len(X_pool)
        assert f"{total}/{total} {unit}" in err


# --------------------------------------------------------------------------
# What E(x) is
# --------------------------------------------------------------------------


def test_exact_expected_unfairness_is_the_refit_disparity():
    learner, X_pool, g_pool = _fitted(n=120)
    fal = FALSampling(method="exact")
    rows = [0, 5, 17]
    E = fal.expected_unfairness(
        learner, X_pool, sensitive_features=g_pool, candidates=rows
    )
    expected = [
        _refit_unfairness(
            learner, X_pool[i], demographic_parity_difference, X_pool, g_pool
        )
        for i in rows
    ]
    np.testing.assert_allclose(E, expected)


def test_equalized_odds_on_a_validation_set():
    learner, X_pool, _ = _fitted(n=150)
    X_val, y_val, g_val = make_biased_classification(200, random_state=9)
    fal = FALSampling(
        metric="equalized_odds", method="exact", fairness_set=(X_val, y_val, g_val)
    )
    rows = [1, 2, 30]
    E = fal.expected_unfairness(learner, X_pool, candidates=rows)
    expected = [
        _refit_unfairness(
            learner, X_pool[i], equalized_odds_difference, X_val, g_val, y_val
        )
        for i in rows
    ]
    np.testing.assert_allclose(E, expected)
    # The query runs without pool groups: C is the validation set.
    picks = fal(learner, X_pool, 3, random_state=0)
    assert len(np.unique(picks)) == 3
    # fast on the same validation set ranks like exact.
    fast = clone(fal).set_params(method="fast")
    E_exact = fal.expected_unfairness(learner, X_pool)
    E_fast = fast.expected_unfairness(learner, X_pool)
    assert spearmanr(E_exact, E_fast).statistic > 0.8


@pytest.mark.parametrize("metric", list(_REFERENCE))
def test_exact_on_a_validation_set_is_the_refit_metric(metric):
    kwargs = {"group_proportions": (0.5, 0.3, 0.2), "base_rates": (0.6, 0.4, 0.2)}
    kwargs["label_noise"] = 0.05
    learner, X_pool, _ = _fitted(n=150, **kwargs)
    X_val, y_val, g_val = make_biased_classification(120, random_state=5, **kwargs)
    fal = FALSampling(metric=metric, method="exact", fairness_set=(X_val, y_val, g_val))
    rows = [0, 7, 40]
    E = fal.expected_unfairness(learner, X_pool, candidates=rows)
    expected = [
        _refit_unfairness(learner, X_pool[i], _REFERENCE[metric], X_val, g_val, y_val)
        for i in rows
    ]
    np.testing.assert_allclose(E, expected, atol=1e-12)


def test_three_groups():
    kwargs = {
        "group_proportions": (0.5, 0.3, 0.2),
        "base_rates": (0.6, 0.4, 0.2),
        "label_noise": 0.0,
    }
    learner, X_pool, g_pool = _fitted(n=150, **kwargs)
    assert len(np.unique(g_pool)) == 3
    rows = [0, 3]
    for method in ("exact", "fast"):
        fal = FALSampling(method=method)
        E = fal.expected_unfairness(
            learner, X_pool, sensitive_features=g_pool, candidates=rows
        )
        expected = [
            _refit_unfairness(
                learner, X_pool[i], demographic_parity_difference, X_pool, g_pool
            )
            for i in rows
        ]
        np.testing.assert_allclose(E, expected, atol=0.03 if method == "fast" else 0)
        picks = fal(learner, X_pool, 4, sensitive_features=g_pool, random_state=0)
        assert len(np.unique(picks)) == 4


def _base_features(learner, X):
    """X as the learner's last step sees it."""
    estimator = learner.estimator_
    if isinstance(estimator, Pipeline):
        X = estimator[:-1].transform(X)
    return X.toarray() if hasattr(X, "toarray") else np.asarray(X, dtype=float)


def _newton_step_unfairness(learner, x, metric, X_c, g_c, y_c=None):
    """fast's E(x) by hand: one damped Newton step per label, hard predictions.

    ``x`` and ``X_c`` are in the learner's feature space.
    """
    model = final_estimator(learner.estimator_)
    theta = np.append(model.coef_.ravel(), model.intercept_)
    F_lab = _base_features(learner, learner.X_labeled_)
    design = np.hstack([F_lab, np.ones((len(F_lab), 1))])
    p_lab = 1 / (1 + np.exp(-design @ theta))
    penalty = np.eye(len(theta)) / model.C
    penalty[-1, -1] = 0.0
    H = design.T @ (design * (p_lab * (1 - p_lab))[:, None]) + penalty
    H += 1e-8 * max(1.0, np.trace(H) / len(theta)) * np.eye(len(theta))
    x1 = np.append(x, 1.0)
    p = 1 / (1 + np.exp(-x1 @ theta))
    u = np.linalg.solve(H, x1)
    u /= 1 + p * (1 - p) * (x1 @ u)
    X_c1 = np.hstack([X_c, np.ones((len(X_c), 1))])
    total = 0.0
    for label, weight in ((0, 1 - p), (1, p)):
        pred = (X_c1 @ (theta - (p - label) * u) > 0).astype(int)
        total += weight * metric(y_c, pred, sensitive_features=g_c)
    return total


@pytest.mark.parametrize(
    ("metric", "on_validation"),
    [
        ("demographic_parity", False),
        ("demographic_parity", True),
        ("equalized_odds", True),
        ("error_rate_balance", True),
    ],
)
@pytest.mark.parametrize("fast_block", [1000, 100])
def test_fast_is_the_newton_step_disparity(
    metric, on_validation, fast_block, monkeypatch
):
    # Tiny blocks make the vectorised path cross many borders: of candidate
    # blocks (1000) and also of row chunks of the fairness set (100).
    monkeypatch.setattr("skfairal.query._influence._FAST_BLOCK", fast_block)
    kwargs = {
        "group_proportions": (0.5, 0.3, 0.2),
        "base_rates": (0.6, 0.4, 0.2),
        "label_noise": 0.05,
    }
    learner, X_pool, g_pool = _fitted(n=200, **kwargs)
    X_val, y_val, g_val = make_biased_classification(150, random_state=4, **kwargs)
    if on_validation:
        # Demographic parity on a labeled validation set ignores the labels.
        fal = FALSampling(
            metric=metric, method="fast", fairness_set=(X_val, y_val, g_val)
        )
        C = (X_val, g_val, y_val)
    else:
        fal = FALSampling(method="fast")
        C = (X_pool, g_pool)
    reference = _REFERENCE[metric]
    E = fal.expected_unfairness(learner, X_pool, sensitive_features=g_pool)
    expected = [_newton_step_unfairness(learner, x, reference, *C) for x in X_pool]
    np.testing.assert_allclose(E, expected, atol=1e-12)


def test_fast_prunes_rows_far_from_the_boundary_exactly():
    # With 1,500 labeled rows one added row moves the scores by ~1e-3: almost
    # every row of C is beyond the reach of any candidate's step and is
    # counted once, unmultiplied. The result must not change.
    learner, X_pool, g_pool = _fitted(n=1900, n_labeled=1500, seed=3)
    model = learner.estimator_
    scores = X_pool @ model.coef_.ravel() + model.intercept_[0]
    assert np.mean(np.abs(scores) > 0.05) > 0.9  # the regime of this test
    E = FALSampling(method="fast").expected_unfairness(
        learner, X_pool, sensitive_features=g_pool
    )
    expected = [
        _newton_step_unfairness(
            learner, x, demographic_parity_difference, X_pool, g_pool
        )
        for x in X_pool
    ]
    np.testing.assert_allclose(E, expected, atol=1e-12)
    assert np.ptp(E) > 0  # some rows do flip predictions


@pytest.mark.parametrize("seed", [0, 1])
def test_exact_and_fast_rank_candidates_alike(seed):
    # Measured on seeds 0-4: Spearman 0.92-0.98, top-10 picks overlap 9-10.
    learner, X_pool, g_pool = _fitted(seed=seed)
    exact = FALSampling(method="exact", n_candidates=None)
    fast = FALSampling(method="fast", n_candidates=None)
    E_exact = exact.expected_unfairness(learner, X_pool, sensitive_features=g_pool)
    E_fast = fast.expected_unfairness(learner, X_pool, sensitive_features=g_pool)
    assert spearmanr(E_exact, E_fast).statistic > 0.85
    picks_exact = exact(learner, X_pool, 10, sensitive_features=g_pool, random_state=0)
    picks_fast = fast(learner, X_pool, 10, sensitive_features=g_pool, random_state=0)
    assert len(set(picks_exact) & set(picks_fast)) >= 7


def test_fast_accepts_a_pipeline_ending_in_logistic_regression():
    estimator = make_pipeline(StandardScaler(), LogisticRegression())
    learner, X_pool, g_pool = _fitted(n=200, estimator=estimator)
    E_exact = FALSampling(method="exact").expected_unfairness(
        learner, X_pool, sensitive_features=g_pool
    )
    E_fast = FALSampling(method="fast").expected_unfairness(
        learner, X_pool, sensitive_features=g_pool
    )
    # The scaler is refit in exact and held fixed in fast.
    assert spearmanr(E_exact, E_fast).statistic > 0.7


# --------------------------------------------------------------------------
# Selection
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"method": "exact"},
        {"method": "fast", "n_candidates": None},
        {"method": "exact", "n_candidates": 5},
        {"method": "fast", "n_candidates": 5},
        {"alpha_schedule": lambda r: 1.0},
    ],
)
def test_alpha_one_is_entropy_sampling(params):
    learner, X_pool, g_pool = _fitted()
    fal = FALSampling(alpha=1.0, **params)
    for n_instances in (1, 7, len(X_pool)):
        np.testing.assert_array_equal(
            fal(
                learner, X_pool, n_instances, sensitive_features=g_pool, random_state=3
            ),
            entropy_sampling(learner, X_pool, n_instances, random_state=3),
        )


@pytest.mark.parametrize("method", ["exact", "fast"])
def test_constant_unfairness_leaves_the_entropy_order(method):
    # One group on C: every refit has disparity 0, E is constant and its
    # normalised value is 0, so the ranking is entropy's.
    learner, X_pool, g_pool = _fitted(n=100)
    one_group = np.full(len(g_pool), "a")
    np.testing.assert_array_equal(
        FALSampling(method=method)(
            learner, X_pool, 6, sensitive_features=one_group, random_state=2
        ),
        entropy_sampling(learner, X_pool, 6, random_state=2),
    )


def test_nested_refits_only_the_top_entropy_candidates():
    learner, X_pool, g_pool = _fitted(
        n=200, estimator=_CountingLogisticRegression(max_iter=1000)
    )
    k = 12
    _FITS.clear()
    picks = FALSampling(method="exact", n_candidates=k)(
        learner, X_pool, 5, sensitive_features=g_pool, random_state=0
    )
    assert len(_FITS) == 2 * k
    assert set(_FITS) == {len(learner.y_encoded_) + 1}
    top_k = select_top_k(
        entropy_utility(learner.predict_proba(X_pool)), k, random_state=0
    )
    assert set(picks) <= set(top_k)
    # Asking for more than k: the k candidates first, then the rest by entropy.
    more = FALSampling(method="exact", n_candidates=k)(
        learner, X_pool, k + 3, sensitive_features=g_pool, random_state=0
    )
    assert set(more[:k]) == set(top_k)


def test_parallel_exact_equals_sequential():
    learner, X_pool, g_pool = _fitted(n=100)
    one = FALSampling(method="exact", n_jobs=1)(
        learner, X_pool, 10, sensitive_features=g_pool, random_state=0
    )
    two = FALSampling(method="exact", n_jobs=2)(
        learner, X_pool, 10, sensitive_features=g_pool, random_state=0
    )
    np.testing.assert_array_equal(one, two)


def test_fairness_weight_changes_the_picks():
    learner, X_pool, g_pool = _fitted()
    E = FALSampling(method="fast").expected_unfairness(
        learner, X_pool, sensitive_features=g_pool
    )
    # alpha=0: purely the least expected unfairness, over the whole pool.
    picks = FALSampling(alpha=0.0, method="fast", n_candidates=None)(
        learner, X_pool, 5, sensitive_features=g_pool, random_state=0
    )
    np.testing.assert_allclose(np.sort(E[picks]), np.sort(E)[:5])


def test_class_random_state_is_the_fallback_seed():
    learner, X_pool, g_pool = _fitted()
    fal = FALSampling(method="fast", random_state=4)
    np.testing.assert_array_equal(
        fal(learner, X_pool, 5, sensitive_features=g_pool),
        fal(learner, X_pool, 5, sensitive_features=g_pool, random_state=4),
    )


def test_linear_alpha_schedule_reads_the_query_context():
    fal = FALSampling(alpha=0.4, alpha_schedule="linear")
    alphas = [
        fal.effective_alpha(QueryContext(round=r, n_rounds=5, batch_size=10))
        for r in range(1, 7)
    ]
    np.testing.assert_allclose(alphas, [1.0, 0.85, 0.7, 0.55, 0.4, 0.4])
    # Outside a simulation (no n_rounds), and without a schedule: alpha.
    assert fal.effective_alpha(QueryContext(round=2)) == 0.4
    simulation = QueryContext(round=1, n_rounds=5, batch_size=10)
    assert FALSampling(alpha=0.4).effective_alpha(simulation) == 0.4
    # A one-round simulation has no room to move.
    assert fal.effective_alpha(QueryContext(round=1, n_rounds=1)) == 0.4


class _RecordingFAL(FALSampling):
    """FAL that records the alpha of each query it answers."""

    seen: list = []

    def _query(self, view, X_pool, n_instances, groups, rng):
        self.seen.append(self.effective_alpha(view))
        return super()._query(view, X_pool, n_instances, groups, rng)


def test_linear_alpha_schedule_follows_the_simulation_rounds():
    X, y, g = make_biased_classification(200, random_state=0)
    _RecordingFAL.seen = []
    fal = _RecordingFAL(alpha=0.4, method="fast", alpha_schedule="linear")
    learner = FairActiveClassifier(
        LogisticRegression(), fal, budget=20, batch_size=5, random_state=0
    ).fit(X, y, sensitive_features=g)
    np.testing.assert_allclose(_RecordingFAL.seen, [1.0, 0.8, 0.6, 0.4])
    assert [h["n_labeled"] for h in learner.history_] == [10, 15, 20, 25, 30]
    # After the simulation, an interactive query is outside it: alpha.
    pool = np.setdiff1d(
        np.arange(200), np.concatenate([h["indices"] for h in learner.history_])
    )
    learner.query(X[pool], 2, sensitive_features=g[pool])
    assert _RecordingFAL.seen[-1] == 0.4


def test_callable_alpha_schedule_sees_the_round():
    seen = []

    def schedule(round_index):
        seen.append(round_index)
        return 1.0

    learner, X_pool, g_pool = _fitted()
    learner.history_ = [None, None, None]
    FALSampling(alpha_schedule=schedule)(
        learner, X_pool, 2, sensitive_features=g_pool, random_state=0
    )
    assert seen == [3]
    bad = FALSampling(alpha_schedule=lambda r: 1.5)
    with pytest.raises(ValueError, match="alpha_schedule"):
        bad(learner, X_pool, 2, sensitive_features=g_pool)


# --------------------------------------------------------------------------
# Bad inputs
# --------------------------------------------------------------------------


@pytest.mark.parametrize("metric", ["equalized_odds", "error_rate_balance"])
def test_label_dependent_metric_on_the_pool_is_an_error(metric):
    learner, X_pool, g_pool = _fitted(n=100)
    with pytest.raises(ValueError, match=f"metric='{metric}' needs labels"):
        FALSampling(metric=metric)(learner, X_pool, 1, sensitive_features=g_pool)


def test_fast_with_another_last_step_names_the_strategy_the_step_and_the_fix():
    estimator = make_pipeline(
        StandardScaler(), HistGradientBoostingClassifier(max_iter=5)
    )
    learner, X_pool, g_pool = _fitted(n=100, estimator=estimator)
    with pytest.raises(ValueError) as info:
        FALSampling(method="fast")(learner, X_pool, 1, sensitive_features=g_pool)
    assert str(info.value) == (
        "FALSampling(method='fast') needs the last step to be LogisticRegression; "
        "got HistGradientBoostingClassifier. Use method='exact', which refits any "
        "classifier."
    )
    # The model is read before the data: a one-group pool fails alike.
    learner, X_pool, _ = _fitted(n=100, estimator=DecisionTreeClassifier())
    with pytest.raises(ValueError, match="got DecisionTreeClassifier"):
        FALSampling(method="fast").expected_unfairness(
            learner, X_pool, sensitive_features=np.zeros(len(X_pool))
        )


@pytest.mark.parametrize(
    "estimator",
    [
        LogisticRegression(class_weight="balanced"),
        LogisticRegression(l1_ratio=1.0, solver="saga"),
        LogisticRegression(solver="liblinear"),
    ],
)
def test_fast_with_an_unsupported_logistic_regression_is_an_error(estimator):
    learner, X_pool, g_pool = _fitted(n=100, estimator=estimator)
    with pytest.raises(ValueError, match=r"\(method='fast'\) needs .*method='exact'"):
        FALSampling(method="fast")(learner, X_pool, 1, sensitive_features=g_pool)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"metric": "accuracy"}, "metric"),
        ({"alpha": 1.5}, "alpha"),
        ({"alpha": -0.1}, "alpha"),
        ({"method": "slow"}, "method"),
        ({"n_candidates": 0}, "n_candidates"),
        ({"fairness_set": "test"}, "fairness_set"),
        ({"fairness_set": (1, 2)}, "fairness_set"),
    ],
)
def test_bad_parameters(params, match):
    learner, X_pool, g_pool = _fitted(n=100)
    with pytest.raises(ValueError, match=match):
        FALSampling(**params)(learner, X_pool, 1, sensitive_features=g_pool)


def test_multiclass_is_an_error():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(90, 3))
    y = np.tile([0, 1, 2], 30)
    g = np.tile(["a", "b"], 45)
    learner = FairActiveClassifier(LogisticRegression()).fit(
        X[:60], y[:60], sensitive_features=g[:60]
    )
    with pytest.raises(ValueError, match="binary"):
        FALSampling()(learner, X[60:], 1, sensitive_features=g[60:])


def test_missing_sensitive_features_is_an_error():
    learner, X_pool, _ = _fitted(n=100)
    with pytest.raises(ValueError, match="sensitive_features"):
        FALSampling()(learner, X_pool, 1)


def test_validation_labels_must_be_the_learners_classes():
    learner, X_pool, _ = _fitted(n=100)
    X_val, y_val, g_val = make_biased_classification(50, random_state=1)
    fal = FALSampling(metric="equalized_odds", fairness_set=(X_val, y_val + 5, g_val))
    with pytest.raises(ValueError, match="y_val"):
        fal(learner, X_pool, 1)


# --------------------------------------------------------------------------
# Inside scikit-learn
# --------------------------------------------------------------------------


def test_alpha_is_tunable_in_grid_search():
    X, y, g = make_biased_classification(160, random_state=0)
    learner = FairActiveClassifier(
        LogisticRegression(),
        FALSampling(method="fast"),
        budget=6,
        batch_size=3,
        random_state=0,
    )
    search = GridSearchCV(
        learner, {"query_strategy__alpha": [0.3, 1.0]}, cv=2, error_score="raise"
    )
    search.fit(X, y, sensitive_features=g)
    assert search.best_params_["query_strategy__alpha"] in (0.3, 1.0)
    assert len(search.cv_results_["params"]) == 2


# --------------------------------------------------------------------------
# The point of FAL: lower disparity than entropy sampling
# --------------------------------------------------------------------------

# A hard problem (class_sep=0.5), where the few labels shape the model. Final
# demographic-parity difference on 2000 held-out rows, FAL (alpha=0.6, fast,
# every pool row a candidate) vs entropy, budget 40 in batches of 2 from 10
# seed rows, learner seeds 0-29: 0.192 vs 0.227 (FAL lower on 19 of 30), 0.201
# vs 0.237 over 0-14. (Before the learner derived each round's seed from
# seed_: 0.168 vs 0.257.) The defaults, Nested over 64 of the 390 pool rows,
# are within noise of entropy here: 0.253 (paired difference +0.025 +- 0.028,
# lower on 13 of 30); exact Nested 64, 0.215 (-0.013 +- 0.022); the defaults
# with alpha=0.4, 0.214 (-0.013 +- 0.023). Not a reason to move alpha from
# the authors' 0.6.
_DP_PROBLEM = {"n_train": 400, "budget": 40, "batch_size": 2, "initial_size": 10}


def _final_dp(strategy, seed, n_train, **learner_kwargs):
    X, y, g = make_biased_classification(
        n_train + 2000, class_sep=0.5, random_state=seed
    )
    learner = FairActiveClassifier(
        LogisticRegression(max_iter=1000),
        strategy,
        random_state=seed,
        **learner_kwargs,
    ).fit(X[:n_train], y[:n_train], sensitive_features=g[:n_train])
    return demographic_parity_difference(
        None, learner.predict(X[n_train:]), sensitive_features=g[n_train:]
    )


def test_fast_fal_lowers_disparity_versus_entropy():
    seeds = range(15)
    fast = FALSampling(method="fast", n_candidates=None, max_fairness_rows=None)
    fal = [_final_dp(fast, s, **_DP_PROBLEM) for s in seeds]
    entropy = [_final_dp("entropy", s, **_DP_PROBLEM) for s in seeds]
    assert np.mean(fal) < np.mean(entropy) - 0.02


@pytest.mark.slow
def test_nested_exact_fal_lowers_disparity_versus_entropy():
    # Real refits for the 20 highest-entropy rows per round (about 200 s).
    # Measured on seeds 0-29: 0.212 vs 0.227 for entropy, lower on 17 of 30
    # (0-14 alone: 0.240 vs 0.237). A small effect on this problem; before the
    # learner derived each round's seed from seed_, 0.222 vs 0.257.
    seeds = range(30)
    nested = FALSampling(method="exact", n_candidates=20, max_fairness_rows=None)
    fal = [_final_dp(nested, s, **_DP_PROBLEM) for s in seeds]
    entropy = [_final_dp("entropy", s, **_DP_PROBLEM) for s in seeds]
    assert np.mean(fal) < np.mean(entropy)


@pytest.mark.parametrize("method", ["fast", "exact"])
def test_max_fairness_rows_samples_the_pool_as_the_fairness_set(method):
    learner, X_pool, g_pool = _fitted(n=500)
    candidates = np.arange(20)

    def unfairness(max_rows):
        fal = FALSampling(method=method, max_fairness_rows=max_rows, random_state=3)
        return fal.expected_unfairness(
            learner, X_pool, sensitive_features=g_pool, candidates=candidates
        )

    full = unfairness(None)
    # A cap at or above the pool size changes nothing.
    np.testing.assert_array_equal(unfairness(len(g_pool)), full)
    # A cap below it measures on a seeded sample: reproducible, and the
    # estimate follows the full-pool one.
    sampled = unfairness(200)
    np.testing.assert_array_equal(unfairness(200), sampled)
    assert not np.array_equal(sampled, full)
    assert np.corrcoef(sampled, full)[0, 1] > 0.5


def test_max_fairness_rows_is_validated():
    learner, X_pool, g_pool = _fitted()
    with pytest.raises(ValueError, match="max_fairness_rows"):
        FALSampling(max_fairness_rows=1)(learner, X_pool, 2, sensitive_features=g_pool)


# --------------------------------------------------------------------------
# The strategy contract: one seed, one validation, the feature space
# --------------------------------------------------------------------------


def _learner_on(X, y, g, n_labeled=40, seed=7, **params):
    y_partial = np.where(np.arange(len(y)) < n_labeled, y, np.nan)
    return FairActiveClassifier(
        LogisticRegression(), FALSampling(**params), random_state=seed
    ).fit(X, y_partial, sensitive_features=g)


@pytest.mark.parametrize(
    "params",
    [
        {"method": "fast", "max_fairness_rows": 50},
        {"method": "exact", "n_candidates": 8, "max_fairness_rows": 50},
    ],
)
def test_same_learner_seed_same_picks_and_a_repeated_query_repeats(params):
    X, y, g = make_biased_classification(300, random_state=0)
    X_pool, g_pool = X[40:], g[40:]
    one = _learner_on(X, y, g, **params)
    two = _learner_on(X, y, g, **params)
    picks = one.query(X_pool, 10, sensitive_features=g_pool)
    np.testing.assert_array_equal(
        two.query(X_pool, 10, sensitive_features=g_pool), picks
    )
    # No teach in between: the same round, the same rows.
    np.testing.assert_array_equal(
        one.query(X_pool, 10, sensitive_features=g_pool), picks
    )
    # A whole simulation is reproduced by its seed.
    runs = [
        FairActiveClassifier(
            LogisticRegression(),
            FALSampling(**params),
            budget=12,
            batch_size=4,
            random_state=3,
        ).fit(X, y, sensitive_features=g)
        for _ in range(2)
    ]
    for a, b in zip(*(run.history_ for run in runs), strict=True):
        np.testing.assert_array_equal(a["indices"], b["indices"])


def test_the_calls_seed_draws_the_fairness_sample():
    learner, X_pool, g_pool = _fitted(n=400)

    def unfairness(strategy_seed, call_seed):
        fal = FALSampling(
            method="fast", max_fairness_rows=60, random_state=strategy_seed
        )
        return fal.expected_unfairness(
            learner, X_pool, sensitive_features=g_pool, random_state=call_seed
        )

    # The call's seed wins over the strategy's; without one, the strategy's.
    np.testing.assert_array_equal(unfairness(5, 1), unfairness(9, 1))
    np.testing.assert_array_equal(unfairness(1, None), unfairness(9, 1))
    assert not np.array_equal(unfairness(None, 1), unfairness(None, 2))


def test_a_query_reads_the_pools_probabilities_once(monkeypatch):
    learner, X_pool, g_pool = _fitted(n=200)
    calls = []
    predict_proba = learner.predict_proba

    def counting(X):
        calls.append(len(X))
        return predict_proba(X)

    monkeypatch.setattr(learner, "predict_proba", counting, raising=False)
    FALSampling(method="fast")(learner, X_pool, 3, sensitive_features=g_pool)
    assert calls == [len(X_pool)]


def _adult_frame(n=300, seed=0):
    """A few hundred Adult rows: numbers, a text column, and the text group."""
    from skfairal.datasets import load_adult

    adult = load_adult(as_frame=True)
    rows = np.random.RandomState(seed).choice(len(adult.target), n, replace=False)
    columns = ["age", "education-num", "hours-per-week", "workclass", "sex"]
    X = adult.data.iloc[rows][columns].reset_index(drop=True)
    for name in ("workclass", "sex"):
        X[name] = X[name].astype(str).astype(object)
    return X, adult.target.to_numpy()[rows], X["sex"].to_numpy()


def _frame_pipeline(sparse_threshold=0.3):
    encode = ColumnTransformer(
        [
            ("text", OneHotEncoder(handle_unknown="ignore"), ["workclass", "sex"]),
            ("numbers", StandardScaler(), ["age", "education-num", "hours-per-week"]),
        ],
        sparse_threshold=sparse_threshold,
    )
    return Pipeline([("encode", encode), ("model", LogisticRegression())])


@pytest.mark.parametrize("sparse_threshold", [0.3, 1.0], ids=["dense", "sparse"])
def test_fast_reads_a_pipeline_on_a_dataframe_in_its_feature_space(sparse_threshold):
    X, y, sex = _adult_frame()
    learner = FairActiveClassifier(_frame_pipeline(sparse_threshold))
    learner.fit(X.iloc[:80], y[:80], sensitive_features=sex[:80])
    X_pool, g_pool = X.iloc[80:], sex[80:]
    fal = FALSampling(method="fast")
    E = fal.expected_unfairness(learner, X_pool, sensitive_features=g_pool)
    # The Newton step of the logistic model on the encoded columns.
    F_pool = _base_features(learner, X_pool)
    expected = [
        _newton_step_unfairness(
            learner, F_pool[i], demographic_parity_difference, F_pool, g_pool
        )
        for i in range(len(F_pool))
    ]
    np.testing.assert_allclose(E, expected, atol=1e-12)
    assert np.ptp(E) > 0
    picks = fal(learner, X_pool, 5, sensitive_features=g_pool, random_state=0)
    assert len(np.unique(picks)) == 5


def test_fal_simulates_on_a_dataframe_with_text_groups():
    X, y, sex = _adult_frame()
    for params in ({"method": "fast"}, {"method": "exact", "n_candidates": 4}):
        learner = FairActiveClassifier(
            _frame_pipeline(),
            FALSampling(**params),
            budget=10,
            batch_size=5,
            initial_size=40,
            random_state=0,
        ).fit(X, y, sensitive_features=sex)
        chosen = np.concatenate([h["indices"] for h in learner.history_])
        assert len(np.unique(chosen)) == 50
        assert len(learner.y_labeled_) == 50


def test_logistic_influence_reads_what_the_fast_refit_can():
    from skfairal.query._influence import LogisticInfluence

    assert LogisticInfluence.can_read(LogisticRegression())
    assert LogisticInfluence.can_read(_frame_pipeline())
    assert not LogisticInfluence.can_read(DecisionTreeClassifier())
    learner, X_pool, g_pool = _fitted(n=150, estimator=LogisticRegression())
    influence = LogisticInfluence(learner)
    # Labeling a row moves theta by (y - p) u; the sign follows the label.
    u, p = influence.steps(X_pool[:3])
    assert u.shape == (X_pool.shape[1] + 1, 3)
    assert p.shape == (3,)
    score = X_pool[:3] @ influence.theta[:-1] + influence.theta[-1]
    np.testing.assert_allclose(p, 1 / (1 + np.exp(-score)))
    # Given group labels, not codes, and the pool as its own fairness set.
    E = influence.unfairness(X_pool, X_pool, g_pool)
    proba = learner.predict_proba(X_pool)
    np.testing.assert_allclose(
        (proba * E).sum(axis=1),
        FALSampling(method="fast").expected_unfairness(
            learner, X_pool, sensitive_features=g_pool
        ),
    )
